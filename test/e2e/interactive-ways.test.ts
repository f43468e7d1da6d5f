// The terminal behaviours of CLI.md's "Prompting" and "Three ways to log in", through a
// real pseudo-terminal: the third way (a pasted key), `kash switch` with no profile, three
// tries at `otp consume`, a mistyped email asked again, and --no-color reaching the prompts.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { registerSecret, runKash, useE2e } from '../support/e2e.js';
import { accounts, otpEmails } from '../support/emulator.js';
import { type Pty, start } from '../support/pty.js';
import { requires } from '../support/requires.js';

const TIMEOUT = 30_000;
const PASTED = 'KEY-pasted-from-webservices-0123';
registerSecret(PASTED, 'the pasted key', { stdoutAllowed: true });

const e2e = useE2e();
const sessions: Pty[] = [];
afterEach(() => {
  for (const session of sessions.splice(0)) session.kill();
});

const envOf = (dir: string, extra: Record<string, string> = {}) => ({
  KASH_BASE_URL: e2e.emulator.url,
  KASH_CONFIG_DIR: dir,
  ...extra,
});

function onPty(args: string[], dir: string, extra: Record<string, string> = {}): Pty {
  const session = start(args, envOf(dir, extra));
  sessions.push(session);
  return session;
}

const saved = (dir: string) =>
  JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8')) as {
    default?: string;
    profiles: Record<string, { credentials?: Record<string, unknown> }>;
  };

/** SGR sequences (colors, bold): what --no-color removes; the cursor and erase ones stay. */
const SGR = /\u001b\[[0-9;]*m/;

requires('script').describe('at a terminal', () => {
  it(
    'the third way: "Paste an API key", then the shop ID, then the key at a masked prompt; nothing sent',
    async () => {
      const dir = e2e.freshDir();
      const before = e2e.emulator.requests.length;
      const kash = onPty(['login'], dir);
      await kash.waitFor('How do you want to log in?');
      await kash.waitFor('Paste an API key from Configuration → Webservices');
      kash.press('down');
      kash.press('down');
      kash.press('enter');
      await kash.waitFor('Shop ID');
      kash.type('4242');
      kash.press('enter');
      await kash.waitFor('API key');
      kash.type(PASTED);
      await kash.waitFor('*'.repeat(PASTED.length));
      kash.press('enter');
      expect(await kash.exit(), kash.output()).toBe(0);
      expect(kash.rawOutput()).not.toContain(PASTED);
      expect(saved(dir).profiles.default?.credentials).toMatchObject({ apiKey: PASTED, shopId: '4242', method: 'key' });
      expect(e2e.emulator.requests.length).toBe(before);
    },
    TIMEOUT,
  );

  it(
    'kash switch with no profile: pick one from the saved ones, which becomes the default',
    async () => {
      const dir = e2e.freshDir();
      for (const [profile, account] of [
        ['default', accounts.demo],
        ['work', accounts.legacy],
      ] as const) {
        const login = await runKash(['--profile', profile, 'login', '--login', account.login], {
          env: envOf(dir, { KASH_PASSWORD: account.password }),
        });
        expect(login.code, login.stderr).toBe(0);
      }
      const kash = onPty(['switch'], dir);
      await kash.waitFor('Which profile should commands use by default?');
      await kash.waitFor(/work \(shop 7/);
      kash.press('down');
      kash.press('enter');
      expect(await kash.exit(), kash.output()).toBe(0);
      expect(saved(dir).default).toBe('work');
      const env = await runKash(['env', '--format', 'json'], { env: envOf(dir) });
      expect(JSON.parse(env.stdout)).toMatchObject({ KASH_SHOPID: '7' });
    },
    TIMEOUT,
  );

  it(
    'otp consume gives three tries at the code, saying how many are left',
    async () => {
      const dir = e2e.freshDir();
      const email = otpEmails.one.email;
      const request = await runKash(['otp', 'request', '--email', email], { env: envOf(dir) });
      expect(request.code, request.stderr).toBe(0);
      // Typed by the person, the code shows on the terminal as typed.
      const code = e2e.emulator.lastCode(email) ?? '';
      const kash = onPty(['otp', 'consume'], dir);
      for (const [wrong, left] of <Array<[string, string]>>[
        ['111111', '2 tries left'],
        ['222222', '1 try left'],
      ]) {
        await kash.waitFor(`Code from the email sent to ${email}`);
        kash.type(wrong);
        kash.press('enter');
        await kash.waitFor(left);
      }
      await kash.waitFor(`Code from the email sent to ${email}`);
      kash.type(code);
      kash.press('enter');
      expect(await kash.exit(), kash.output()).toBe(0);
      expect(saved(dir).profiles.default?.credentials).toMatchObject({ method: 'otp', email });
    },
    TIMEOUT,
  );

  it(
    'a mistyped email is said at the prompt and asked again, never a usage error',
    async () => {
      const dir = e2e.freshDir();
      const kash = onPty(['shops'], dir);
      await kash.waitFor('Email of your kash.click account:');
      kash.type('not-an-email');
      kash.press('enter');
      await kash.waitFor(/invalid email "not-an-email"/);
      for (let i = 0; i < 'not-an-email'.length; i++) kash.type('\u007f');
      kash.type(otpEmails.one.email);
      kash.press('enter');
      expect(await kash.exit(), kash.output()).toBe(0);
      expect(kash.output()).toContain('Solo Shop');
      expect(kash.output()).not.toMatch(/^error:/m);
    },
    TIMEOUT,
  );

  it(
    'a prompt shows its message, and nothing of inquirer’s own state',
    async () => {
      const kash = onPty(['shops'], e2e.freshDir());
      await kash.waitFor('Email of your kash.click account:');
      kash.press('ctrl-c');
      expect(await kash.exit()).toBe(130);
      expect(kash.output()).not.toMatch(/account: (idle|loading|done)/);
    },
    TIMEOUT,
  );

  it(
    '--no-color: the prompts have no color sequences (their cursor and erase ones stay); without it they do',
    async () => {
      const painted = onPty(['login'], e2e.freshDir());
      await painted.waitFor('How do you want to log in?');
      painted.press('ctrl-c');
      expect(await painted.exit()).toBe(130);
      expect(painted.rawOutput()).toMatch(SGR);

      const plain = onPty(['--no-color', 'login'], e2e.freshDir());
      await plain.waitFor('How do you want to log in?');
      plain.press('ctrl-c');
      expect(await plain.exit()).toBe(130);
      expect(plain.rawOutput()).not.toMatch(SGR);
      // Still a live prompt: it moves the cursor and erases as it draws.
      expect(plain.rawOutput()).toMatch(/\u001b\[\d*[GKA]/);
    },
    TIMEOUT,
  );

  it(
    'CI=1 disables the prompts, and says why',
    async () => {
      const dir = e2e.freshDir();
      const kash = onPty(['login', '--login', accounts.demo.login], dir, { CI: '1' });
      expect(await kash.exit()).toBe(2);
      expect(kash.output()).toContain('missing password: cannot prompt here (CI is set)');
      expect(existsSync(join(dir, 'credentials.json'))).toBe(false);
    },
    TIMEOUT,
  );
});
