// The three ways to log in, how one is chosen, and the hints that carry what kash knows
// (CLI.md, "Three ways to log in", "Prompting", "JSON results"). Strict nock: a way that
// must send nothing fails the test if it sends anything.
import { describe, expect, it } from 'vitest';
import { ENDPOINTS } from '../../src/api/client.js';
import { describeMoment } from '../../src/output/profile-view.js';
import {
  ask,
  BASE_URL,
  commandTestHooks,
  errorLines,
  type FakeIO,
  fakeIO,
  interactiveIO,
  kash,
  prompterOverrides,
  scriptedPrompter,
  scriptIO,
  seedPendingCode,
  seedProfile,
  service,
  withoutSpinner,
} from '../support/fakes.js';

const sandbox = commandTestHooks();

/** The line after the `error:` line: the hint. */
const hintLine = (io: FakeIO) => {
  const lines = withoutSpinner(io.err).split('\n');
  return lines[lines.findIndex((line) => line.startsWith('error:')) + 1];
};
const KEY = 'KEY-pasted-0123456789-SECRET';
const LOGIN = 'owner@example.com';
const PASSWORD = 'pw-SECRET-123';
const CREDENTIALS = {
  success: true,
  result: 'Here are your credentials',
  APIKEY: 'KEY-f3a9c1e07b5d42a8-SECRET',
  SHOPID: 42,
};

describe('a key copied from the back office', () => {
  it('--api-key-stdin --shop-id: saved with method "key", nothing sent', async () => {
    const { env, readStore } = sandbox();
    const io = scriptIO({ stdin: `${KEY}\n` });
    expect(await kash(['login', '--api-key-stdin', '--shop-id', '4242', '--json'], io, env)).toBe(0);
    expect(readStore()?.profiles.default?.credentials).toMatchObject({
      storage: 'file',
      apiKey: KEY,
      shopId: '4242',
      method: 'key',
      login: null,
      email: null,
    });
    expect(JSON.parse(io.out)).toMatchObject({
      profile: 'default',
      method: 'key',
      shopId: '4242',
      apiKeyMasked: 'KEY-…CRET',
    });
    expect(io.err).not.toContain(KEY);
  });

  it('--no-save prints it as env would, and saves nothing', async () => {
    const { env, storeBytes } = sandbox();
    const io = scriptIO({ stdin: `${KEY}\n` });
    expect(await kash(['login', '--api-key-stdin', '--shop-id', '7', '--no-save', '--format', 'json'], io, env)).toBe(
      0,
    );
    expect(JSON.parse(io.out)).toEqual({ KASH_APIKEY: KEY, KASH_SHOPID: '7' });
    expect(storeBytes()).toBeUndefined();
  });

  it('at a terminal: the third choice, then the shop ID, then the key at a masked prompt', async () => {
    const { env, readStore } = sandbox();
    const prompter = scriptedPrompter([
      ask.choose('How do you want to log in?', /Paste an API key from Configuration → Webservices/),
      ask.text('Shop ID', ' 99 '),
      ask.secret('API key', KEY),
    ]);
    expect(await kash(['login'], interactiveIO(), env, prompterOverrides(prompter))).toBe(0);
    expect(readStore()?.profiles.default?.credentials).toMatchObject({ apiKey: KEY, shopId: '99', method: 'key' });
  });

  it.each([
    ['an empty shop ID', ['--shop-id', ''], `${KEY}\n`, /the shop ID \(--shop-id\) is empty/],
    ['a shop ID with a bidi override', ['--shop-id', '42\u202e1'], `${KEY}\n`, /shop ID \(--shop-id\) holds/],
    ['a key with a zero-width space', ['--shop-id', '42'], `KEY\u200b-0123\n`, /API key \(--api-key-stdin\) holds/],
    ['an empty key', ['--shop-id', '42'], '\n', /API key/],
  ])('%s: exit 2 naming the option, nothing saved', async (_what, args, stdin, says) => {
    const { env, storeBytes } = sandbox();
    const io = scriptIO({ stdin });
    expect(await kash(['login', '--api-key-stdin', ...args], io, env)).toBe(2);
    expect(errorLines(io)[0]).toMatch(says);
    expect(storeBytes()).toBeUndefined();
  });

  it('--api-key-stdin with a terminal on stdin is a usage error, not a silent wait', async () => {
    const io = fakeIO({ stdinTTY: true, stderrTTY: false });
    expect(await kash(['login', '--api-key-stdin', '--shop-id', '1'], io, sandbox().env)).toBe(2);
    expect(errorLines(io)[0]).toMatch(/--api-key-stdin reads the API key from a pipe/);
  });
});

describe('choosing the way', () => {
  it.each([
    [['--otp', '--login', LOGIN], {}, /--login and --otp are two different ways/],
    [['--email', 'a@example.com', '--api-key-stdin'], {}, /--email and --api-key-stdin/],
    [['--shop-id', '1', '--password-stdin'], {}, /--password-stdin and --shop-id/],
    [
      ['--email', 'a@example.com'],
      { KASH_PASSWORD: PASSWORD },
      /KASH_PASSWORD gives a password, but --email asks for another way/,
    ],
    [['--otp'], { KASH_PASSWORD: PASSWORD, KASH_EMAIL: 'a@example.com' }, /KASH_PASSWORD gives a password, but --otp/],
  ])('%j with %j: a usage error naming both, nothing sent', async (args, extra, says) => {
    const io = scriptIO();
    expect(await kash(['login', ...args], io, { ...sandbox().env, ...extra })).toBe(2);
    expect(errorLines(io)[0]).toMatch(says);
    expect(io.err).not.toContain(PASSWORD);
  });

  it('an exported KASH_EMAIL does not turn a password login into a code one', async () => {
    service().post(ENDPOINTS.password, { login: LOGIN, password: PASSWORD }).reply(200, CREDENTIALS);
    const env = { ...sandbox().env, KASH_EMAIL: 'other@example.com', KASH_LOGIN: LOGIN, KASH_PASSWORD: PASSWORD };
    expect(await kash(['login'], scriptIO(), env)).toBe(0);
  });

  it('KASH_EMAIL alone chooses the code way', async () => {
    service()
      .post(ENDPOINTS.shops, { email: 'a@example.com' })
      .reply(200, [
        {
          accountTitle: 'One',
          accountID: '5',
          getOPTForAccount: `${BASE_URL}/workers/getOTPForAccount.php?accountID=5&code=x1`,
        },
      ]);
    service()
      .post('/workers/getOTPForAccount.php?accountID=5&code=x1', { email: 'a@example.com' })
      .reply(200, { success: true, result: 'sent' });
    const io = scriptIO();
    expect(await kash(['login'], io, { ...sandbox().env, KASH_EMAIL: 'a@example.com' })).toBe(2);
    expect(io.err).toContain('the code was sent, but kash cannot ask for it here (standard input is not a terminal)');
    expect(io.err).toContain('kash otp consume --otp <code>');
  });
});

describe('hints that carry what kash knows', () => {
  it('the profile and a --config-dir given on the line are repeated in the hint', async () => {
    const { dir, env } = sandbox();
    const { KASH_CONFIG_DIR: _, ...withoutDir } = env;
    const io = scriptIO();
    expect(await kash(['whoami', '--profile', 'shop.eu', '--config-dir', `${dir}/my store`], io, withoutDir)).toBe(5);
    expect(io.err).toContain(`Run \`kash login --profile shop.eu --config-dir '${dir}/my store'\``);
  });

  it('several shops and nobody to pick: the hint lists them with their IDs', async () => {
    service()
      .post(ENDPOINTS.shops, { email: 'a@example.com' })
      .reply(200, [
        { accountTitle: 'North', accountID: '1' },
        { accountTitle: 'South', accountID: '2' },
      ]);
    const io = scriptIO();
    expect(await kash(['otp', 'request', '--email', 'a@example.com'], io, sandbox().env)).toBe(2);
    expect(io.err).toContain('one of: 1 (North), 2 (South).');
  });

  it('a mistyped code, three times at the prompt: the last refusal gives the line that tries it again', async () => {
    const { env } = sandbox();
    for (let i = 0; i < 3; i++) {
      service().post(ENDPOINTS.code).reply(200, { success: false, result: 'OTP not found' });
    }
    const prompter = scriptedPrompter([
      ask.text('Code', '111111'),
      ask.text('Code', '222222'),
      ask.text('Code', '333333'),
    ]);
    const io = interactiveIO();
    const args = ['otp', 'consume', '--profile', 'shop.eu', '--email', 'a@example.com'];
    expect(await kash(args, io, env, prompterOverrides(prompter))).toBe(3);
    expect(withoutSpinner(io.err)).toContain('2 tries left');
    // Nothing remembered for that email, so the line keeps it; it saves, so no --no-save.
    expect(hintLine(io)).toBe(
      'If the code was mistyped, try it again: kash otp consume --profile shop.eu --email a@example.com --otp <code>; or request a new one.',
    );
  });

  it.each([
    [
      'the request remembered in the profile: the email comes from there',
      ['--otp', '000000'],
      'kash otp consume --profile shop.eu --otp <code>',
    ],
    [
      'another email given, --no-save and a --format: each is kept',
      ['--email', 'b@example.com', '--no-save', '--format', 'fish', '--otp', '000000'],
      'kash otp consume --profile shop.eu --email b@example.com --no-save --format fish --otp <code>',
    ],
  ])('a wrong code given to otp consume, %s', async (_what, args, line) => {
    const { dir, env } = sandbox();
    await seedPendingCode(dir, 'shop.eu', 'a@example.com');
    service().post(ENDPOINTS.code).reply(200, { success: false, result: 'OTP not found' });
    const io = scriptIO();
    expect(await kash(['otp', 'consume', '--profile', 'shop.eu', ...args], io, env)).toBe(3);
    expect(errorLines(io)).toEqual(['error: the service refused: OTP not found']);
    expect(hintLine(io)).toBe(`If the code was mistyped, try it again: ${line}; or request a new one.`);
  });

  it('login --otp --no-save with nobody to type the code: the otp consume line keeps --format', async () => {
    service()
      .post(ENDPOINTS.requestCode, { email: 'a@example.com', accountID: '5' })
      .reply(200, { success: true, result: 'sent' });
    const io = scriptIO();
    const args = ['login', '--profile', 'shop.eu', '--otp', '--email', 'a@example.com', '--account-id', '5'];
    expect(await kash([...args, '--no-save', '--format', 'fish'], io, sandbox().env)).toBe(2);
    expect(hintLine(io)).toBe(
      'When the email arrives, run: kash otp consume --profile shop.eu --email a@example.com --no-save --format fish --otp <code>',
    );
  });

  it('otp consume with no request pending and no email: the hint keeps the profile, for both ways on', async () => {
    const io = scriptIO();
    expect(await kash(['otp', 'consume', '--profile', 'shop.eu', '--otp', '123456'], io, sandbox().env)).toBe(2);
    expect(errorLines(io)).toEqual(['error: no code request is pending for profile "shop.eu", and no email was given']);
    expect(hintLine(io)).toBe(
      'Start with `kash otp request --profile shop.eu --email you@example.com`, or give the email the code was sent to: `kash otp consume --profile shop.eu --email you@example.com --otp <code>`.',
    );
  });

  it('--password gets a hint naming --password-stdin and KASH_PASSWORD; exec without -- one about --', async () => {
    const password = scriptIO();
    expect(await kash(['login', '--password', PASSWORD], password, sandbox().env)).toBe(2);
    expect(password.err).toMatch(/--password-stdin/);
    expect(password.err).toMatch(/KASH_PASSWORD/);
    const exec = scriptIO();
    expect(await kash(['exec', 'ls', '-la'], exec, sandbox().env)).toBe(2);
    expect(exec.err).toContain('Put -- before the command');
  });

  it('kash alone prints the help on stdout, exit 0; kash help <unknown> says it is unknown', async () => {
    const alone = scriptIO();
    expect(await kash([], alone, sandbox().env)).toBe(0);
    expect(alone.out).toMatch(/^Usage: kash /);
    expect(alone.err).toBe('');
    const unknown = scriptIO();
    expect(await kash(['help', 'nope'], unknown, sandbox().env)).toBe(2);
    expect(unknown.err).toContain('error: unknown command "nope"');
  });
});

describe('results that do not mislead', () => {
  it('login --no-save --json: profile, source, storage and isDefault null', async () => {
    service().post(ENDPOINTS.password).reply(200, CREDENTIALS);
    const io = scriptIO();
    const env = { ...sandbox().env, KASH_PASSWORD: PASSWORD };
    expect(await kash(['login', '--login', LOGIN, '--no-save', '--json'], io, env)).toBe(0);
    expect(JSON.parse(io.out)).toMatchObject({
      apiKey: CREDENTIALS.APIKEY,
      shopId: '42',
      profile: null,
      source: null,
      storage: null,
      isDefault: null,
      method: 'password',
    });
  });

  it('whoami --all --json with no profile prints [] and exits 5', async () => {
    const io = scriptIO();
    expect(await kash(['whoami', '--all', '--json'], io, sandbox().env)).toBe(5);
    expect(JSON.parse(io.out)).toEqual([]);
  });

  it('logging in again to a profile that held another shop says which shop it replaced', async () => {
    const { dir, env } = sandbox();
    await seedProfile(dir, 'default', { shopId: '7', shopTitle: 'Old Shop' });
    service().post(ENDPOINTS.password).reply(200, CREDENTIALS);
    const io = scriptIO();
    expect(await kash(['login', '--login', LOGIN], io, { ...env, KASH_PASSWORD: PASSWORD })).toBe(0);
    expect(io.err).toContain('profile "default" held shop 7 (Old Shop) before; it now holds shop 42');
  });

  it('Obtained: local time, its offset, and how long ago', () => {
    const now = new Date('2026-12-01T12:00:00Z');
    expect(describeMoment('2026-12-01T11:59:30Z', now)).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d [+-]\d\d:\d\d \(just now\)$/,
    );
    expect(describeMoment('2026-12-01T09:00:00Z', now)).toMatch(/\(3 hours ago\)$/);
    expect(describeMoment('2026-11-30T12:00:00Z', now)).toMatch(/\(1 day ago\)$/);
    expect(describeMoment('not a date', now)).toBe('not a date');
  });
});
