// The prompts of `kash login`, driven through a real pseudo-terminal (see test/support/pty.ts):
// the CLI sees terminals on stdin and stderr, so it prompts with @inquirer/prompts, and
// we type into it as a person would. Run `npm run build` first: this drives bin/kash.js.
// Needs util-linux `script` for the pseudo-terminal.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { runKash, useE2e } from '../support/e2e.js';
import { accounts, otpEmails, shops } from '../support/emulator.js';
import { type Pty, start } from '../support/pty.js';
import { requires } from '../support/requires.js';

const STORE_FILE = 'credentials.json';
const TEST_TIMEOUT_MS = 30_000;

const e2e = useE2e();
const sessions: Pty[] = [];

afterEach(() => {
  // A failed test must not leave a session running.
  for (const session of sessions.splice(0)) session.kill();
});

const configDir = () => e2e.tempDir();

/** What the child is given, on top of a clean environment (no CI, KASH_*, NO_COLOR). */
const kashEnv = (dir: string) => ({ KASH_BASE_URL: e2e.emulator.url, KASH_CONFIG_DIR: dir });

function kashOnPty(args: string[], dir: string): Pty {
  const session = start(args, kashEnv(dir));
  sessions.push(session);
  return session;
}

/** The store's file names and their exact bytes; `null` when the folder does not exist. */
function snapshot(dir: string): Record<string, string> | null {
  if (!existsSync(dir)) return null;
  return Object.fromEntries(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name)).toString('base64')]));
}

/** A loopback URL where nothing listens, so that connecting is refused at once. */
async function refusingUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

function storedProfile(dir: string): Record<string, unknown> | undefined {
  const data = JSON.parse(readFileSync(join(dir, STORE_FILE), 'utf8')) as {
    profiles: Record<string, { credentials?: Record<string, unknown> }>;
  };
  return data.profiles.default?.credentials;
}

async function whoami(dir: string): Promise<Record<string, unknown>> {
  const result = await runKash(['whoami', '--json'], { env: kashEnv(dir) });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

/** Saves the demo credentials without a terminal, as a script would. */
async function loginNonInteractively(dir: string): Promise<void> {
  const result = await runKash(['login', '--login', accounts.demo.login], {
    env: { ...kashEnv(dir), KASH_PASSWORD: accounts.demo.password },
  });
  expect(result.stderr).not.toContain('error');
  expect(result.code).toBe(0);
  expect(existsSync(join(dir, STORE_FILE))).toBe(true);
}

/** The session's output for a failure message; a crash can print whole minified lines of the bundle. */
const transcript = (session: Pty) =>
  session
    .output()
    .split('\n')
    .map((line) =>
      line.length > 1000 ? `${line.slice(0, 700)} …[${line.length - 900} characters]… ${line.slice(-200)}` : line,
    )
    .join('\n');

const passwordRequests = () =>
  e2e.emulator.requests.filter((request) => request.path.startsWith('/workers/getAuthTokenWithPassword.php'));

requires('script').describe('kash login at a terminal', () => {
  it(
    'asks how to log in, then the login and a masked password, and saves the credentials',
    async () => {
      const dir = configDir();
      const kash = kashOnPty(['login'], dir);

      await kash.waitFor('How do you want to log in?');
      await kash.waitFor(/password/i);
      await kash.waitFor(/code.*email/i);
      // The first choice, the password, is highlighted: take it.
      kash.press('enter');

      await kash.waitFor('Login (email or user name):');
      kash.type(accounts.demo.login);
      await kash.waitFor(accounts.demo.login);
      kash.press('enter');

      await kash.waitFor('Password:');
      kash.type(accounts.demo.password);
      // One mask character per character typed, and never the password itself.
      await kash.waitFor('*'.repeat(accounts.demo.password.length));
      kash.press('enter');

      expect(await kash.exit(), transcript(kash)).toBe(0);
      expect(kash.rawOutput()).not.toContain(accounts.demo.password);
      expect(kash.output()).not.toContain(accounts.demo.password);
      // The API key is printed only by `env` and a --no-save login.
      expect(kash.output()).not.toContain(accounts.demo.apiKey);

      expect(storedProfile(dir)).toMatchObject({
        apiKey: accounts.demo.apiKey,
        shopId: accounts.demo.shopId,
        login: accounts.demo.login,
        method: 'password',
        baseUrl: e2e.emulator.url,
      });
      expect(await whoami(dir)).toMatchObject({
        shopId: '42',
        login: accounts.demo.login,
        method: 'password',
        source: 'store',
      });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'exits 3 on a wrong password typed at the prompt, leaving the saved credentials byte for byte',
    async () => {
      const dir = configDir();
      await loginNonInteractively(dir);
      const before = snapshot(dir);

      const kash = kashOnPty(['login', '--login', accounts.demo.login], dir);
      await kash.waitFor('Password:');
      kash.type('not-the-password');
      await kash.waitFor('*'.repeat('not-the-password'.length));
      kash.press('enter');

      expect(await kash.exit(), transcript(kash)).toBe(3);
      expect(kash.output()).toMatch(/error: .*Authentication error/);
      expect(kash.output()).not.toContain('not-the-password');
      expect(snapshot(dir)).toEqual(before);
      expect(await whoami(dir)).toMatchObject({ shopId: '42', method: 'password' });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'exits 130 on Ctrl-C at the password prompt, sending nothing and changing nothing',
    async () => {
      const dir = configDir();
      await loginNonInteractively(dir);
      const before = snapshot(dir);
      const sentBefore = passwordRequests().length;

      const kash = kashOnPty(['login', '--login', accounts.demo.login], dir);
      await kash.waitFor('Password:');
      kash.type('half-typed');
      await kash.waitFor('*'.repeat('half-typed'.length));
      kash.press('ctrl-c');

      expect(await kash.exit(), transcript(kash)).toBe(130);
      expect(kash.output()).not.toContain('half-typed');
      expect(passwordRequests().length).toBe(sentBefore);
      expect(snapshot(dir)).toEqual(before);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'exits 130 on Ctrl-C at the first prompt when nothing was saved, leaving no store behind',
    async () => {
      const dir = e2e.freshDir();

      const kash = kashOnPty(['login'], dir);
      await kash.waitFor('How do you want to log in?');
      kash.press('ctrl-c');

      expect(await kash.exit(), transcript(kash)).toBe(130);
      expect(existsSync(join(dir, STORE_FILE))).toBe(false);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'with --otp, lets the user pick one of several shops and retry a code that was not accepted',
    async () => {
      const dir = configDir();
      const email = otpEmails.two.email;
      const mailsBefore = e2e.emulator.outbox.length;
      const kash = kashOnPty(['login', '--otp', '--email', email], dir);

      await kash.waitFor(shops.corner.title);
      await kash.waitFor(shops.harbour.title);
      kash.press('down');
      // The pointer has moved to the second shop before it is chosen.
      await kash.waitFor(new RegExp(`❯\\s*${shops.harbour.title}`));
      kash.press('enter');

      await kash.waitFor(`Code from the email sent to ${email}:`);
      // Exactly one code went out, for the shop picked.
      expect(e2e.emulator.outbox.length).toBe(mailsBefore + 1);
      expect(e2e.emulator.outbox.at(-1)).toMatchObject({ email, accountId: shops.harbour.accountId });
      const code = e2e.emulator.lastCode(email);
      expect(code).toMatch(/^\d{6}$/);
      const wrong = code === '000000' ? '111111' : '000000';

      kash.type(wrong);
      await kash.waitFor(wrong);
      kash.press('enter');
      await kash.waitFor(/not found; 2 tries left/);

      // The next occurrence of the prompt, after the warning, is the second try.
      await kash.waitFor(`Code from the email sent to ${email}:`);
      kash.type(code ?? '');
      await kash.waitFor(code ?? '');
      kash.press('enter');

      expect(await kash.exit(), transcript(kash)).toBe(0);
      expect(e2e.emulator.outbox.length).toBe(mailsBefore + 1);
      expect(await whoami(dir)).toMatchObject({
        shopId: shops.harbour.shopId,
        shopTitle: shops.harbour.title,
        method: 'otp',
        email,
        source: 'store',
      });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'catches a mistyped code at the prompt without spending one of the three tries',
    async () => {
      const dir = configDir();
      const email = otpEmails.one.email;
      const kash = kashOnPty(['login', '--otp', '--email', email], dir);
      await kash.waitFor(`Code from the email sent to ${email}:`);
      const code = e2e.emulator.lastCode(email) ?? '';
      const codeRequests = () => e2e.emulator.requests.filter((r) => r.path.includes('getAuthTokenWithOTP')).length;
      const before = codeRequests();

      kash.type('12a!');
      kash.press('enter');
      await kash.waitFor(/characters other than letters and digits/);
      expect(codeRequests()).toBe(before);
      // Erase the typo and type the code, spaced as a person might.
      kash.type('\u007f'.repeat(4));
      kash.type(`${code.slice(0, 3)} ${code.slice(3)}`);
      kash.press('enter');

      expect(await kash.exit(), transcript(kash)).toBe(0);
      expect(codeRequests()).toBe(before + 1);
      expect(kash.output()).not.toMatch(/tries? left/);
      expect(await whoami(dir)).toMatchObject({ shopId: shops.solo.shopId, method: 'otp' });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'refuses --password-stdin when standard input is a terminal, instead of waiting on it',
    async () => {
      const dir = configDir();
      const sentBefore = passwordRequests().length;
      const kash = kashOnPty(['login', '--login', accounts.demo.login, '--password-stdin'], dir);

      expect(await kash.exit(), transcript(kash)).toBe(2);
      expect(kash.output()).toMatch(/error: .*--password-stdin.*terminal/);
      expect(kash.output()).not.toContain('Password:');
      expect(passwordRequests().length).toBe(sentBefore);
      expect(existsSync(join(dir, STORE_FILE))).toBe(false);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'exits 4 with a one-line error when the service cannot be reached while the spinner starts',
    async () => {
      // A refusal that arrives before the spinner is drawn (here: nothing listens) must
      // still be an `error:` line and its exit status, not a crash.
      const dir = configDir();
      const session = start(['login', '--login', accounts.demo.login], {
        KASH_BASE_URL: await refusingUrl(),
        KASH_CONFIG_DIR: dir,
      });
      sessions.push(session);
      await session.waitFor('Password:');
      session.type(accounts.demo.password);
      await session.waitFor('*'.repeat(accounts.demo.password.length));
      session.press('enter');

      expect(await session.exit(), transcript(session)).toBe(4);
      expect(session.output()).toMatch(/error: could not connect to http:\/\/127\.0\.0\.1:\d+: connection refused/);
      expect(session.output()).not.toMatch(/KashError|\n\s+at /);
      expect(existsSync(join(dir, STORE_FILE))).toBe(false);
    },
    TEST_TIMEOUT_MS,
  );
});
