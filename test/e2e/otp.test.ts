// End-to-end tests of `kash otp request`, `kash otp consume` and `kash login --otp`
// (shared/CLI.md and the one-time-code issue): the built CLI runs as a real process
// against the emulator on 127.0.0.1, each test with its own temporary KASH_CONFIG_DIR.
//
// Tests run concurrently, so most start their own emulator (its outbox, requests and
// fault are then theirs alone); the two groups that share one run their tests in order.
// A test whose subject comes after the code request writes the request into the store and
// has the emulator email the code (World.pending), as `otp request` would; what `otp
// request` itself sends and remembers is tested on its own.
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SavedCredentials } from '../../src/store/records.js';
import { type KashRun, runKash, useE2e } from '../support/e2e.js';
import { accounts, type Emulator, type Fault, type Mail, otpEmails, shops } from '../support/emulator.js';
import { codeCredentials, pendingCode, readStore, writeStore } from '../support/store-fixture.js';

const SEND_OTP = '/workers/getOTPForAccount.php';
const OTP_LOGIN = '/workers/getAuthTokenWithOTP.php';
const LIST_SHOPS = '/workers/listShops.php';

const ONE = otpEmails.one.email; // one shop: Solo Shop, 100
const TWO = otpEmails.two.email; // Corner Café 101, Harbour Store 102
const NONE = otpEmails.none.email; // no shop
const DEMO = otpEmails.demo.email; // one shop: Demo Bakery, 42

// No emulator for the whole file: each World starts its own, closed after the file's tests.
const e2e = useE2e({ emulator: false });

interface RunOptions {
  env?: Record<string, string | undefined>;
  input?: string;
}

/** An emulator of its own, a store folder of its own, and helpers bound to both. */
class World {
  dir = e2e.tempDir();
  constructor(readonly emulator: Emulator) {}

  static async start(): Promise<World> {
    return new World(await e2e.startEmulator({ host: '127.0.0.1' }));
  }

  /** Runs bin/kash.js with this world's store and base URL (each overridable). */
  kash(args: string[], options: RunOptions & { dir?: string } = {}): Promise<KashRun> {
    return runKash(args, {
      env: { KASH_CONFIG_DIR: options.dir ?? this.dir, KASH_BASE_URL: this.emulator.url, ...options.env },
      ...(options.input === undefined ? {} : { input: options.input }),
      timeoutMs: 15_000,
    });
  }

  /** The requests the emulator saw while `work` ran. */
  async during<T>(work: () => Promise<T>): Promise<[T, Emulator['requests']]> {
    const before = this.emulator.requests.length;
    const result = await work();
    return [result, this.emulator.requests.slice(before)];
  }

  code(email: string): string {
    const found = this.emulator.lastCode(email);
    if (found === undefined) throw new Error(`no code was sent to ${email}`);
    return found;
  }

  lastMail(email: string): Mail {
    const mail = this.emulator.outbox.filter((m) => m.email === email.toLowerCase()).at(-1);
    if (!mail) throw new Error(`no mail to ${email}`);
    return mail;
  }

  async whoami(): Promise<Record<string, unknown>> {
    const run = ok(await this.kash(['whoami', '--json']));
    return JSON.parse(run.stdout) as Record<string, unknown>;
  }

  /** The credentials the store in `dir` holds for the default profile. */
  saved(dir = this.dir): SavedCredentials | undefined {
    return readStore(dir)?.profiles.default?.credentials;
  }

  /**
   * What `otp request --email <email> [--account-id <accountId>]` leaves: the request
   * remembered in the default profile of `dir`, and a code emailed, which is returned.
   * `shopTitle`: the title a request through the shop list remembers.
   */
  pending(email: string, accountId: string, shopTitle: string | null = null, dir = this.dir): string {
    writeStore(dir, { default: { pendingCode: pendingCode(email, accountId, this.emulator.url, shopTitle) } });
    return this.emulator.issueCode(email, accountId);
  }

  /**
   * Fills the store with credentials (Solo Shop, by code) and a pending request for
   * demo@: the state that a failing command must leave byte for byte as it was.
   */
  seed(): void {
    writeStore(this.dir, {
      default: {
        credentials: codeCredentials(shops.solo, ONE, this.emulator.url, shops.solo.title),
        pendingCode: pendingCode(DEMO, accounts.demo.accountId, this.emulator.url, accounts.demo.title),
      },
    });
  }
}

const storeFile = (dir: string) => join(dir, 'credentials.json');

/** The store file's bytes, or null when there is none. */
function storeBytes(dir: string): Buffer | null {
  return existsSync(storeFile(dir)) ? readFileSync(storeFile(dir)) : null;
}

const storeText = (dir: string) => readFileSync(storeFile(dir), 'utf8');

/** A copy of a seeded store folder, so a test may change it freely. */
function copyOf(dir: string): string {
  const copy = e2e.tempDir();
  cpSync(dir, copy, { recursive: true });
  return copy;
}

/** A code that is certainly not the one sent. */
const wrongCode = (right: string) => (right === '000000' ? '111111' : '000000');

const pathname = (path: string) => new URL(path, 'http://emulator').pathname;

function ok(run: KashRun): KashRun {
  expect(run.code, `exit status; stderr:\n${run.stderr}`).toBe(0);
  return run;
}

/** One `error:` line (and maybe a hint): no stack trace, no raw JSON, nothing on stdout. */
function expectCleanError(run: KashRun): void {
  expect(run.stderr).toMatch(/^error: /m);
  expect(run.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect(run.stderr).not.toMatch(/[{}]/);
  expect(run.stdout).toBe('');
}

// Each test spawns several processes; on a loaded machine that outlasts the 5 s default.
describe.concurrent('kash otp', { timeout: 30_000 }, () => {
  describe('otp request + otp consume', () => {
    it('as a CI job runs them: request --account-id 102, consume --otp <code>; whoami shows the otp login', async () => {
      const w = await World.start();
      const env = { CI: 'true' };
      const request = ok(await w.kash(['otp', 'request', '--email', TWO, '--account-id', '102'], { env }));
      expect(request.stdout).toBe('');
      expect(request.stderr).toContain(TWO);
      expect(request.stderr).toContain('kash otp consume');
      expect(w.lastMail(TWO).accountId).toBe('102');

      const consume = ok(await w.kash(['otp', 'consume', '--otp', w.code(TWO)], { env }));
      expect(consume.stdout).toBe('');
      expect(consume.stderr).not.toContain(shops.harbour.apiKey);

      const view = await w.whoami();
      expect(view).toMatchObject({
        profile: 'default',
        source: 'store',
        method: 'otp',
        email: TWO,
        shopId: '102',
        baseUrl: w.emulator.url,
      });
      expect(JSON.stringify(view)).not.toContain(shops.harbour.apiKey);
      const printed = ok(await w.kash(['env', '--format', 'json']));
      expect(JSON.parse(printed.stdout)).toEqual({ KASH_APIKEY: shops.harbour.apiKey, KASH_SHOPID: '102' });
    });

    it('remembers the pending request (email, account, base URL, when) in the profile, and clears it on success; --json prints {email, accountId, sentAt} and nothing else on stdout', async () => {
      const w = await World.start();
      const before = Date.now();
      const request = ok(await w.kash(['otp', 'request', '--email', TWO, '--account-id', '101', '--json']));
      const result = JSON.parse(request.stdout) as Record<string, unknown>;
      expect(Object.keys(result).sort()).toEqual(['accountId', 'email', 'sentAt']);
      expect(result).toMatchObject({ email: TWO, accountId: '101' });
      expect(typeof result.sentAt).toBe('string');
      expect(Math.abs(Date.parse(result.sentAt as string) - w.lastMail(TWO).sentAt.getTime())).toBeLessThan(5000);
      const stored = storeText(w.dir);
      expect(stored).toContain(TWO);
      expect(stored).toContain('"101"');
      expect(stored).toContain(w.emulator.url);
      const stamps = [...stored.matchAll(/"(\d{4}-\d\d-\d\dT[^"]+)"/g)].map((m) => Date.parse(m[1]!));
      expect(stamps.some((t) => t >= before - 1000 && t <= Date.now() + 1000)).toBe(true);

      // No --email needed: the pending request says whose code it is.
      const [consume, requests] = await w.during(() => w.kash(['otp', 'consume', '--otp', w.code(TWO)]));
      ok(consume);
      expect(requests.map((r) => [r.path, r.fields.email])).toEqual([[OTP_LOGIN, TWO]]);
      // Nothing is pending any more: consuming again without --email says how to start.
      const again = await w.kash(['otp', 'consume', '--otp', '123456']);
      expect(again.code).toBe(2);
      expect(again.stderr).toContain('kash otp request');
    });

    it('otp consume --json prints the whoami object of the saved profile, without the key', async () => {
      const w = await World.start();
      const code = w.pending(ONE, shops.solo.accountId, shops.solo.title);
      const run = ok(await w.kash(['otp', 'consume', '--otp', code, '--json']));
      const result = JSON.parse(run.stdout) as Record<string, unknown>;
      expect(result).toMatchObject({
        profile: 'default',
        source: 'store',
        shopId: '100',
        shopTitle: 'Solo Shop',
        email: ONE,
        method: 'otp',
        login: null,
      });
      expect(run.stdout).not.toContain(shops.solo.apiKey);
    });
    it('the pending request is found whatever the case of the email: its shop title is saved', async () => {
      // Email addresses are not case-sensitive, and neither is the service.
      const w = await World.start();
      ok(await w.kash(['otp', 'request', '--email', 'One@Kash.Click']));
      ok(await w.kash(['otp', 'consume', '--email', ONE, '--otp', w.code(ONE)]));
      expect(w.saved()).toMatchObject({ shopId: '100', method: 'otp', shopTitle: 'Solo Shop' });
    });
  });

  describe('where the code is requested', () => {
    it('one shop: through the getOPTForAccount link listShops gave (it carries code=); the title is saved', async () => {
      const w = await World.start();
      const [run, requests] = await w.during(() => w.kash(['otp', 'request', '--email', ONE, '--json']));
      ok(run);
      expect(requests.map((r) => pathname(r.path))).toEqual([LIST_SHOPS, SEND_OTP]);
      const send = requests[1]!;
      expect(send.path).toContain('code=');
      expect(send.path).toContain('accountID=100');
      expect(send.fields.email).toBe(ONE);
      expect(JSON.parse(run.stdout)).toMatchObject({ email: ONE, accountId: '100' });
      expect(w.lastMail(ONE).accountId).toBe('100');

      ok(await w.kash(['otp', 'consume', '--otp', w.code(ONE)]));
      expect(w.saved()).toMatchObject({ method: 'otp', email: ONE, shopId: '100', shopTitle: 'Solo Shop' });
    });

    it('--account-id: the documented endpoint with the accountID field, and no shop listing', async () => {
      const w = await World.start();
      const [run, requests] = await w.during(() => w.kash(['otp', 'request', '--email', TWO, '--account-id', '102']));
      ok(run);
      expect(requests).toHaveLength(1);
      expect(requests[0]!.path).toBe(SEND_OTP);
      expect(requests[0]!.fields).toEqual({ email: TWO, accountID: '102' });
    });

    it('KASH_EMAIL and KASH_ACCOUNT_ID stand in for the flags', async () => {
      const w = await World.start();
      const [run, requests] = await w.during(() =>
        w.kash(['otp', 'request'], { env: { KASH_EMAIL: TWO, KASH_ACCOUNT_ID: '101' } }),
      );
      ok(run);
      expect(requests.map((r) => [r.path, r.fields.email, r.fields.accountID])).toEqual([[SEND_OTP, TWO, '101']]);
    });

    it('a shop link of another origin than the base URL is not used: documented endpoint with accountID', async () => {
      // The emulator's links name 127.0.0.1; here the CLI is pointed at it as localhost.
      const w = await World.start();
      const base = w.emulator.url.replace('127.0.0.1', 'localhost');
      const [run, requests] = await w.during(() =>
        w.kash(['otp', 'request', '--email', ONE], { env: { KASH_BASE_URL: base } }),
      );
      ok(run);
      const send = requests.filter((r) => pathname(r.path) === SEND_OTP);
      expect(send).toHaveLength(1);
      expect(send[0]!.path).toBe(SEND_OTP);
      expect(send[0]!.fields).toEqual({ email: ONE, accountID: '100' });
    });
  });

  describe('otp consume: where the code comes from', () => {
    it('standard input, when it is not a terminal', async () => {
      const w = await World.start();
      const code = w.pending(TWO, '101');
      const [run, requests] = await w.during(() => w.kash(['otp', 'consume'], { input: `${code}\n` }));
      ok(run);
      expect(requests.map((r) => [r.path, r.fields])).toEqual([[OTP_LOGIN, { email: TWO, otp: code }]]);
      expect(w.saved()).toMatchObject({ shopId: '101', method: 'otp', email: TWO });
    });

    it('KASH_OTP', async () => {
      const w = await World.start();
      ok(await w.kash(['otp', 'consume'], { env: { KASH_OTP: w.pending(TWO, '102') } }));
      expect(w.saved()).toMatchObject({ shopId: '102', method: 'otp' });
    });

    it('--otp beats KASH_OTP', async () => {
      const w = await World.start();
      const right = w.pending(TWO, '102');
      ok(await w.kash(['otp', 'consume', '--otp', right], { env: { KASH_OTP: wrongCode(right) } }));
      expect(storeText(w.dir)).toContain(shops.harbour.apiKey);
    });

    it.for([
      ['a space', ' '],
      ['a dash', '-'],
    ])('ignores %s inside the code ("123 456" / "123-456")', async ([, separator]) => {
      const w = await World.start();
      const sent = w.pending(TWO, '101');
      const typed = `${sent.slice(0, 3)}${separator}${sent.slice(3)}`;
      const [run, requests] = await w.during(() => w.kash(['otp', 'consume', '--otp', typed]));
      ok(run);
      expect(requests.map((r) => r.fields.otp)).toEqual([sent]);
      expect(storeText(w.dir)).toContain(shops.corner.apiKey);
    });

    it('no code and nothing on standard input: exit 2 naming --otp and KASH_OTP; nothing sent or changed', async () => {
      const w = await World.start();
      w.pending(TWO, '101');
      const before = storeBytes(w.dir);
      const [run, requests] = await w.during(() => w.kash(['otp', 'consume', '--no-input']));
      expect(run.code).toBe(2);
      expect(requests).toHaveLength(0);
      expect(storeBytes(w.dir)).toEqual(before);
      // The contract: a missing value that cannot be prompted for names its flag and variable.
      expect(run.stderr).toContain('--otp');
      expect(run.stderr).toContain('KASH_OTP');
    });

    it('a code holding other characters is a usage error, and is not sent', async () => {
      const w = await World.start();
      w.pending(TWO, '101');
      const before = storeBytes(w.dir);
      const [run, requests] = await w.during(() => w.kash(['otp', 'consume', '--otp', '12#456']));
      expect(run.code).toBe(2);
      expect(requests).toHaveLength(0);
      expect(storeBytes(w.dir)).toEqual(before);
    });
  });

  describe('otp consume --no-save', () => {
    it('prints the credentials as `kash env` would (sh by default) and writes nothing', async () => {
      const w = await World.start();
      const code = w.pending(ONE, shops.solo.accountId, shops.solo.title);
      const before = storeBytes(w.dir);
      const run = ok(await w.kash(['otp', 'consume', '--otp', code, '--no-save']));
      expect(run.stdout).toBe(`export KASH_APIKEY='${shops.solo.apiKey}'\nexport KASH_SHOPID='100'\n`);
      expect(run.stderr).not.toContain(shops.solo.apiKey);
      expect(storeBytes(w.dir)).toEqual(before);
      expect(storeText(w.dir)).not.toContain(shops.solo.apiKey);
      expect(w.saved()).toBeUndefined();
    });

    it('--format json: the env JSON object on stdout, nothing saved', async () => {
      const w = await World.start();
      const run = ok(await w.kash(['otp', 'consume', '--otp', w.pending(TWO, '102'), '--no-save', '--format', 'json']));
      expect(JSON.parse(run.stdout)).toEqual({ KASH_APIKEY: shops.harbour.apiKey, KASH_SHOPID: '102' });
      expect(storeText(w.dir)).not.toContain(shops.harbour.apiKey);
    });

    it('--format without --no-save is a usage error, and the code is not spent', async () => {
      const w = await World.start();
      const code = w.pending(TWO, '102');
      const [run, requests] = await w.during(() => w.kash(['otp', 'consume', '--otp', code, '--format', 'json']));
      expect(run.code).toBe(2);
      expect(requests).toHaveLength(0);
    });
  });

  describe('kash login --otp with nobody to type the code', () => {
    it('no terminal: requests the code, exits 2 with a hint to run `kash otp consume`, which then completes it', async () => {
      const w = await World.start();
      const run = await w.kash(['login', '--otp', '--email', ONE]);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain('kash otp consume');
      expect(w.emulator.outbox).toHaveLength(1);
      expect(w.lastMail(ONE).accountId).toBe('100');

      ok(await w.kash(['otp', 'consume', '--otp', w.code(ONE)]));
      expect(w.saved()).toMatchObject({ method: 'otp', email: ONE, shopId: '100', shopTitle: 'Solo Shop' });
    });

    it.for([
      ['--no-input', ['--no-input'], {}],
      ['CI=true', [], { CI: 'true' }],
      ['KASH_NO_INPUT=1', [], { KASH_NO_INPUT: '1' }],
    ] as Array<[string, string[], Record<string, string>]>)(
      '%s: the same, and the request is remembered',
      async ([, flags, env]) => {
        const w = await World.start();
        const run = await w.kash(['login', '--otp', '--email', TWO, '--account-id', '101', ...flags], { env });
        expect(run.code).toBe(2);
        expect(run.stderr).toContain('kash otp consume');
        expect(w.emulator.outbox.map((m) => [m.email, m.accountId])).toEqual([[TWO, '101']]);
        expect(storeText(w.dir)).toContain(TWO);
        expect(storeText(w.dir)).toContain('"101"');
      },
    );

    it('several shops, no --account-id, no terminal: exit 2 asking for --account-id; no email sent, nothing written', async () => {
      const w = await World.start();
      w.seed();
      const before = storeBytes(w.dir);
      const sent = w.emulator.outbox.length;
      const run = await w.kash(['login', '--otp', '--email', TWO]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('--account-id');
      expect(w.emulator.outbox).toHaveLength(sent);
      expect(storeBytes(w.dir)).toEqual(before);
    });
  });

  describe('profiles', () => {
    it('--profile / KASH_PROFILE keep a pending request per profile', async () => {
      const w = await World.start();
      const a = ok(await w.kash(['otp', 'request', '--email', ONE, '--profile', 'shop-a']));
      expect(a.stderr).toContain('kash otp consume --profile shop-a');
      const codeA = w.code(ONE);
      ok(await w.kash(['otp', 'request', '--email', TWO, '--account-id', '102'], { env: { KASH_PROFILE: 'shop-b' } }));
      const codeB = w.code(TWO);

      // The default profile has nothing pending.
      const none = await w.kash(['otp', 'consume', '--otp', codeA]);
      expect(none.code).toBe(2);

      ok(await w.kash(['otp', 'consume', '--otp', codeB, '--profile', 'shop-b']));
      ok(await w.kash(['otp', 'consume', '--otp', codeA], { env: { KASH_PROFILE: 'shop-a' } }));
      const all = JSON.parse(ok(await w.kash(['whoami', '--all', '--json'])).stdout) as Array<Record<string, unknown>>;
      expect(all.map((v) => [v.profile, v.email, v.shopId, v.method]).sort()).toEqual([
        ['shop-a', ONE, '100', 'otp'],
        ['shop-b', TWO, '102', 'otp'],
      ]);
    });
  });

  describe('bad input: the exit status, and the store left byte for byte as it was', () => {
    // One emulator and one seeded store for the group; each test works on a copy.
    let w: World;
    beforeAll(async () => {
      w = await World.start();
      w.seed();
    });

    /** A copy of the seeded store (its request pending for demo@) with a fresh code emailed, and its bytes. */
    function freshCode(): { dir: string; code: string; before: Buffer | null } {
      const dir = copyOf(w.dir);
      return { dir, code: w.emulator.issueCode(DEMO, accounts.demo.accountId), before: storeBytes(dir) };
    }

    it.sequential('unknown email, with --account-id: exit 3, "Error sending email" shown cleanly', async () => {
      const dir = copyOf(w.dir);
      const before = storeBytes(dir);
      const run = await w.kash(['otp', 'request', '--email', 'nobody@kash.click', '--account-id', '100'], { dir });
      expect(run.code).toBe(3);
      expectCleanError(run);
      expect(run.stderr).toMatch(/^error: .*Error sending email/m);
      expect(storeBytes(dir)).toEqual(before);
    });

    it.sequential('an account ID that is not one of the email\'s shops: exit 3, "Error sending email"', async () => {
      const dir = copyOf(w.dir);
      const before = storeBytes(dir);
      const run = await w.kash(['otp', 'request', '--email', TWO, '--account-id', '999'], { dir });
      expect(run.code).toBe(3);
      expectCleanError(run);
      expect(run.stderr).toContain('Error sending email');
      expect(storeBytes(dir)).toEqual(before);
    });

    it.sequential('unknown email, no --account-id: exit 3, nothing sent', async () => {
      const dir = copyOf(w.dir);
      const before = storeBytes(dir);
      const sent = w.emulator.outbox.length;
      const run = await w.kash(['otp', 'request', '--email', 'nobody@kash.click'], { dir });
      expect(run.code).toBe(3);
      expectCleanError(run);
      expect(w.emulator.outbox).toHaveLength(sent);
      expect(storeBytes(dir)).toEqual(before);
    });

    it.sequential('an email with no shop: exit 3 saying so', async () => {
      const dir = copyOf(w.dir);
      const before = storeBytes(dir);
      const run = await w.kash(['otp', 'request', '--email', NONE], { dir });
      expect(run.code).toBe(3);
      expectCleanError(run);
      expect(run.stderr).toMatch(/no shop/i);
      expect(storeBytes(dir)).toEqual(before);
    });

    it.sequential('an invalid email: exit 2, no request at all', async () => {
      const dir = copyOf(w.dir);
      const before = storeBytes(dir);
      const [run, requests] = await w.during(() => w.kash(['otp', 'request', '--email', 'not-an-email'], { dir }));
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^error: .*email/m);
      expect(requests).toHaveLength(0);
      expect(storeBytes(dir)).toEqual(before);
    });

    it.sequential('no email and no terminal: exit 2 naming --email and KASH_EMAIL', async () => {
      const dir = copyOf(w.dir);
      const before = storeBytes(dir);
      const [run, requests] = await w.during(() => w.kash(['otp', 'request'], { dir }));
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('--email');
      expect(run.stderr).toContain('KASH_EMAIL');
      expect(requests).toHaveLength(0);
      expect(storeBytes(dir)).toEqual(before);
    });

    it.sequential('a wrong code: exit 3, the code not echoed; the right one still works afterwards', async () => {
      const { dir, code, before } = freshCode();
      const wrong = wrongCode(code);
      const run = await w.kash(['otp', 'consume', '--otp', wrong], { dir });
      expect(run.code).toBe(3);
      expectCleanError(run);
      expect(run.stderr).toContain('OTP not found');
      expect(run.stderr).not.toContain(wrong);
      expect(storeBytes(dir)).toEqual(before);

      ok(await w.kash(['otp', 'consume', '--otp', code], { dir }));
      expect(w.saved(dir)).toMatchObject({ email: DEMO, shopId: accounts.demo.shopId, method: 'otp' });
    });

    it.sequential('an expired code: exit 3', async () => {
      const { dir, code, before } = freshCode();
      w.lastMail(DEMO).sentAt = new Date(Date.now() - 6 * 60_000);
      const run = await w.kash(['otp', 'consume', '--otp', code], { dir });
      expect(run.code).toBe(3);
      expectCleanError(run);
      expect(storeBytes(dir)).toEqual(before);
    });

    it.sequential('a reused code: exit 3', async () => {
      const { dir, code, before } = freshCode();
      ok(await w.kash(['otp', 'consume', '--otp', code], { dir }));
      const afterFirst = storeBytes(dir);
      expect(afterFirst).not.toEqual(before);
      const run = await w.kash(['otp', 'consume', '--email', DEMO, '--otp', code], { dir });
      expect(run.code).toBe(3);
      expectCleanError(run);
      expect(storeBytes(dir)).toEqual(afterFirst);
    });

    it.sequential('otp consume with no pending request and no --email: exit 2 saying how to start; nothing sent', async () => {
      const fresh = e2e.tempDir();
      const [run, requests] = await w.during(() => w.kash(['otp', 'consume', '--otp', '123456'], { dir: fresh }));
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('kash otp request');
      expect(requests).toHaveLength(0);
      expect(storeBytes(fresh)).toBeNull();
      // Also for a profile with nothing pending, in a store where another profile has a request.
      const dir = copyOf(w.dir);
      const before = storeBytes(dir);
      const other = await w.kash(['otp', 'consume', '--otp', '123456', '--profile', 'other'], { dir });
      expect(other.code).toBe(2);
      expect(other.stderr).toContain('kash otp request');
      expect(storeBytes(dir)).toEqual(before);
    });

    it.sequential('a code consumed against another base URL than it was requested from: exit 2, nothing sent', async () => {
      const { dir, code, before } = freshCode();
      const elsewhere = w.emulator.url.replace('127.0.0.1', 'localhost');
      const [run, requests] = await w.during(() =>
        w.kash(['otp', 'consume', '--otp', code], { dir, env: { KASH_BASE_URL: elsewhere } }),
      );
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(w.emulator.url);
      expect(requests).toHaveLength(0);
      expect(storeBytes(dir)).toEqual(before);
      // --base-url beats the variable: from the right base URL the code still consumes.
      ok(
        await w.kash(['otp', 'consume', '--otp', code, '--base-url', w.emulator.url], {
          dir,
          env: { KASH_BASE_URL: elsewhere },
        }),
      );
    });

    it.sequential('--verbose shows the exchange but never the code or the key', async () => {
      const { dir, code } = freshCode();
      const run = ok(await w.kash(['otp', 'consume', '--otp', code, '--verbose'], { dir }));
      expect(run.stderr).toContain(OTP_LOGIN);
      expect(run.stderr).not.toContain(code);
      expect(run.stderr).not.toContain(accounts.demo.apiKey);
    });
  });

  describe('service faults: exit 4, the store left byte for byte as it was', () => {
    // `emulator.fault` is global to an emulator: these share one and run in order.
    const faults: Fault[] = ['http500', 'html', 'slow', 'redirect', 'huge', 'noKey', 'keyNewline', 'drop', 'stallBody'];
    let w: World;
    let code: string;
    beforeAll(async () => {
      w = await World.start();
      // Longer than the test: a slow request is never answered, so it spends no code.
      w.emulator.slowMs = 120_000;
      w.seed();
      code = w.emulator.issueCode(DEMO, accounts.demo.accountId);
    });

    async function withFault(fault: Fault, args: string[]): Promise<KashRun> {
      w.emulator.fault = fault;
      try {
        return await w.kash([...args, '--timeout', '0.5']);
      } finally {
        w.emulator.fault = null;
      }
    }

    for (const fault of faults) {
      it.sequential(`otp consume, fault ${fault}`, async () => {
        const before = storeBytes(w.dir);
        const run = await withFault(fault, ['otp', 'consume', '--otp', code]);
        expect(run.code, run.stderr).toBe(4);
        expect(run.stderr).toMatch(/^error: /m);
        expect(run.stdout).toBe('');
        expect(run.stderr).not.toContain(code);
        expect(run.stderr).not.toContain('EVIL');
        expect(storeBytes(w.dir)).toEqual(before);
      });
    }

    // noKey, keyNewline and exact1MiB are well-formed "sent" answers for a code request.
    for (const fault of faults.filter((f) => f !== 'noKey' && f !== 'keyNewline')) {
      it.sequential(`otp request, fault ${fault}`, async () => {
        const before = storeBytes(w.dir);
        const run = await withFault(fault, ['otp', 'request', '--email', TWO, '--account-id', '101']);
        expect(run.code, run.stderr).toBe(4);
        expect(run.stdout).toBe('');
        expect(storeBytes(w.dir)).toEqual(before);
      });
    }

    it.sequential('a redirect is named, not followed', async () => {
      const [run, requests] = await w.during(() => withFault('redirect', ['otp', 'consume', '--otp', code]));
      expect(run.code).toBe(4);
      expect(run.stderr).toContain('https://elsewhere.example/login');
      expect(requests).toHaveLength(1);
    });

    it.sequential('after all those faults the pending request is intact: the code consumes without --email', async () => {
      ok(await w.kash(['otp', 'consume', '--otp', code]));
      expect(w.saved()).toMatchObject({ email: DEMO, shopId: accounts.demo.shopId, method: 'otp' });
    });

    it('an answer of exactly 1 MiB is not "over 1 MiB": accepted and saved', async () => {
      const own = await World.start();
      const pending = own.pending(ONE, shops.solo.accountId, shops.solo.title);
      own.emulator.fault = 'exact1MiB';
      ok(await own.kash(['otp', 'consume', '--otp', pending]));
      own.emulator.fault = null;
      expect(storeText(own.dir)).toContain(accounts.demo.apiKey);
    });
  });
});

describe.concurrent('kash login --otp and the store', { timeout: 30_000 }, () => {
  it('with --no-save writes nothing, not even the pending request, and the hint keeps --no-save and the email', async () => {
    const w = await World.start();
    const run = await w.kash(['login', '--otp', '--email', ONE, '--no-save'], { env: { CI: 'true' } });
    expect(run.code, run.stderr).toBe(2);
    expect(w.emulator.outbox.filter((mail) => mail.email === ONE)).toHaveLength(1);
    expect(storeBytes(w.dir)).toBeNull();
    expect(run.stderr).toContain(`kash otp consume --email ${ONE} --no-save --otp <code>`);
    // Following the hint saves nothing either, and prints the credentials.
    const consume = ok(await w.kash(['otp', 'consume', '--email', ONE, '--no-save', '--otp', w.code(ONE)]));
    expect(consume.stdout).toContain(`export KASH_SHOPID='${shops.solo.shopId}'`);
    expect(storeBytes(w.dir)).toBeNull();
  });

  it('sets a corrupt store aside, as a password login does, and remembers the request', async () => {
    const w = await World.start();
    const { mkdirSync, readdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(w.dir, { recursive: true, mode: 0o700 });
    writeFileSync(storeFile(w.dir), '{ not json', { mode: 0o600 });
    const run = await w.kash(['login', '--otp', '--email', ONE], { env: { CI: 'true' } });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/corrupt/);
    const aside = readdirSync(w.dir).filter((name) => name.startsWith('credentials.json.corrupt-'));
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(w.dir, aside[0]!), 'utf8')).toBe('{ not json');
    expect(JSON.parse(storeText(w.dir)).profiles.default.pendingCode.email).toBe(ONE);
    ok(await w.kash(['otp', 'consume', '--otp', w.code(ONE)]));
  });
});
