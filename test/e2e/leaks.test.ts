// Nothing kash sent comes back on screen, values stay exact, failures are clear (CLI.md,
// "Safety rules", "Streams", "Commands"), against hostile answers of the emulator. Every
// run is also checked by the harness for leaked secrets: a password, code or key on
// stderr fails it by itself.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { KASH_BIN, registerSecret, useE2e } from '../support/e2e.js';
import { accounts, BIG_SHOP_ID, type Fault, otpEmails, shops } from '../support/emulator.js';
import { requires } from '../support/requires.js';
import { pendingCode, writeStore } from '../support/store-fixture.js';

const e2e = useE2e();
const { demo } = accounts;
const run = promisify(execFile);

const login = (dir: string, url: string, extra: string[] = []) =>
  e2e.kash(dir, ['login', '--login', demo.login, ...extra], {
    env: { KASH_BASE_URL: url, KASH_PASSWORD: demo.password },
  });

describe('a service that echoes what it was sent', () => {
  it.each([
    ['its refusal', 'echo', 3, true],
    // An HTML page is not shown at all: the harness's own check is what counts there.
    ['an HTTP 500 page', 'echoPage', 4, false],
    ['a redirect’s target', 'echoRedirect', 4, true],
  ] as Array<[string, Fault, number, boolean]>)(
    'in %s: the password never shows, with --verbose too',
    async (_where, fault, status, shown) => {
      const emulator = await e2e.startEmulator();
      emulator.fault = fault;
      const results = await Promise.all(
        [[], ['--verbose']].map((verbose) => login(e2e.freshDir(), emulator.url, verbose)),
      );
      for (const result of results) {
        expect(result.code, result.stderr).toBe(status);
        // The harness has already failed the run if the password appeared in any spelling.
        if (shown) expect(result.stderr).toContain('password=[redacted]');
      }
    },
  );

  it('in otp consume: the code shows as [redacted]', async () => {
    const emulator = await e2e.startEmulator();
    const dir = e2e.freshDir();
    const email = otpEmails.one.email;
    // As `otp request` leaves it: the request remembered, the code emailed.
    writeStore(dir, {
      default: { pendingCode: pendingCode(email, shops.solo.accountId, emulator.url, shops.solo.title) },
    });
    const code = emulator.issueCode(email, shops.solo.accountId);
    registerSecret(code, 'the code emailed to one@');
    emulator.fault = 'echo';
    const consumed = await e2e.kash(dir, ['otp', 'consume', '--otp', code], { env: { KASH_BASE_URL: emulator.url } });
    expect(consumed.code).toBe(3);
    expect(consumed.stderr).toContain('otp=[redacted]');
  });
});

describe('values kept exact', () => {
  it('a 20-digit SHOPID keeps every digit, through env --format json', async () => {
    const emulator = await e2e.startEmulator();
    emulator.fault = 'bigShopId';
    const dir = e2e.freshDir();
    expect((await login(dir, emulator.url)).code).toBe(0);
    const env = await e2e.kash(dir, ['env', '--format', 'json']);
    expect(JSON.parse(env.stdout)).toEqual({ KASH_APIKEY: demo.apiKey, KASH_SHOPID: BIG_SHOP_ID });
  });

  it('a SHOPID holding U+202E is a server fault (exit 4), nothing saved', async () => {
    const emulator = await e2e.startEmulator();
    emulator.fault = 'bidiShopId';
    const dir = e2e.freshDir();
    const result = await login(dir, emulator.url);
    expect(result.code).toBe(4);
    expect(result.stderr).not.toContain('\u202e');
    expect((await e2e.kash(dir, ['whoami'])).code).toBe(5);
  });

  requires('bash').it('a KASH_PASSWORD that is not UTF-8 is a usage error naming it, and nothing is sent', async () => {
    const before = e2e.emulator.requests.length;
    const dir = e2e.freshDir();
    // Node cannot spawn with such an environment: bash puts the byte there.
    const script = `KASH_PASSWORD=$'caf\\xe9' exec "$0" "$1" --config-dir "$2" login --login x`;
    const result = await run('bash', ['-c', script, process.execPath, KASH_BIN, dir], {
      env: e2e.env({ KASH_BASE_URL: e2e.emulator.url }),
    }).catch((error: { code: number; stderr: string }) => error);
    expect('code' in result ? result.code : 0).toBe(2);
    expect(result.stderr).toMatch(/^error: the password given by KASH_PASSWORD is not valid UTF-8$/m);
    expect(e2e.emulator.requests.length).toBe(before);
  });

  requires('bash').it.each([
    ['HOME', ['whoami'], `HOME=$'/tmp/caf\\xe9'`],
    ['KASH_APIKEY', ['env'], `KASH_APIKEY=$'KEY-caf\\xe9' KASH_SHOPID=1`],
    ['KASH_SHOPID', ['exec', '--', 'true'], `KASH_APIKEY=KEY-1 KASH_SHOPID=$'4\\xe92'`],
  ])('a %s that is not UTF-8, used by %j, is a usage error naming it', async (name, args, assignments) => {
    const script = `${assignments} exec "$0" "$@"`;
    const result = await run('bash', ['-c', script, process.execPath, KASH_BIN, ...args], {
      env: e2e.env({ KASH_CONFIG_DIR: '', XDG_CONFIG_HOME: '' }),
    }).catch((error: { code: number; stdout: string; stderr: string }) => error);
    expect('code' in result ? result.code : 0, result.stderr).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^error: the [\\w ]+ given by ${name} is not valid UTF-8$`, 'm'));
    expect(result.stdout).toBe('');
  });

  requires('bash').it(
    'a U+FFFD given as UTF-8, in KASH_PASSWORD and --login, is the user’s own: sent as it is',
    async () => {
      const before = e2e.emulator.requests.length;
      const dir = e2e.freshDir();
      const script = `KASH_PASSWORD=$'caf\\xef\\xbf\\xbd' exec "$0" "$1" --config-dir "$2" login --login $'x\\xef\\xbf\\xbd'`;
      const result = await run('bash', ['-c', script, process.execPath, KASH_BIN, dir], {
        env: e2e.env({ KASH_BASE_URL: e2e.emulator.url }),
      }).catch((error: { code: number; stderr: string }) => error);
      // The emulator knows no such login: the service refused it, so it was sent.
      expect('code' in result ? result.code : 0, result.stderr).toBe(3);
      const sent = e2e.emulator.requests.slice(before);
      expect(sent).toHaveLength(1);
      expect(sent[0]?.fields).toMatchObject({ login: 'x\ufffd', password: 'caf\ufffd' });
    },
  );

  it('a stored key with a NUL: exec is exit 6 naming the profile, never the key', async () => {
    const dir = e2e.freshDir();
    mkdirSync(dir, { mode: 0o700 });
    const credentials = {
      storage: 'file',
      apiKey: 'KEY-with\u0000a-NUL-SECRET',
      shopId: '1',
      login: 'x',
      email: null,
      method: 'password',
      baseUrl: 'https://kash.click',
      obtainedAt: '2026-12-01T08:00:00.000Z',
      shopTitle: null,
    };
    writeFileSync(
      join(dir, 'credentials.json'),
      JSON.stringify({ version: 2, profiles: { default: { credentials } } }),
      {
        mode: 0o600,
      },
    );
    registerSecret('KEY-with', 'the start of the NUL key');
    const result = await e2e.kash(dir, ['exec', '--', 'true']);
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(/^error: the credentials of profile "default" hold a NUL/m);
  });
});

describe('clear failures', () => {
  const withKeys = { KASH_APIKEY: 'KEY-0123456789abcdef', KASH_SHOPID: '9' };

  requires('bash').it.each([[['--version']], [[]]])(
    'kash %j > /dev/full is one error line and its hint, exit 1',
    async (args) => {
      const script = '"$0" "$@" > /dev/full; echo "status $?" >&2';
      const result = await run('bash', ['-c', script, process.execPath, KASH_BIN, ...args], { env: e2e.env(withKeys) });
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(3);
      expect(lines[0]).toBe('error: could not write to standard output (ENOSPC)');
      expect(lines[2]).toBe('status 1');
    },
  );

  requires('bash').it('env > /dev/full is one error line, exit 1; env | head -c0 ends quietly, exit 0', async () => {
    const script = `"$0" "$1" env > /dev/full; full=$?; "$0" "$1" env | head -c0; echo "$full \${PIPESTATUS[0]}" >&2`;
    const result = await run('bash', ['-c', script, process.execPath, KASH_BIN], { env: e2e.env(withKeys) });
    const lines = result.stderr.trim().split('\n');
    expect(lines.at(-1)).toBe('1 0');
    expect(lines.filter((line) => line.startsWith('error:'))).toEqual([
      'error: could not write to standard output (ENOSPC)',
    ]);
    expect(result.stderr).not.toMatch(/unexpected internal error/);
  });

  it.each([
    ['KASH_TIMEOUT=abc', { KASH_TIMEOUT: 'abc' }],
    ['KASH_TIMEOUT=0.0001', { KASH_TIMEOUT: '0.0001' }],
    ['KASH_BASE_URL=localhost:8787', { KASH_BASE_URL: 'localhost:8787' }],
  ])('%s breaks no offline command: env, whoami, exec', async (_name, bad) => {
    const dir = e2e.freshDir();
    const env = { ...withKeys, ...bad };
    for (const args of [['env'], ['whoami'], ['exec', '--', 'true']]) {
      const result = await e2e.kash(dir, args, { env });
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
    }
    // And the commands that use the network say what is wrong with it.
    const shops = await e2e.kash(dir, ['shops', '--email', 'a@example.com'], { env });
    expect(shops.code).toBe(2);
  });

  it('a timeout of 0.0001 s is refused by the network commands, 0.1 s taken', async () => {
    const dir = e2e.freshDir();
    const tiny = await e2e.kash(dir, ['shops', '--email', otpEmails.one.email, '--timeout', '0.0001']);
    expect(tiny.code).toBe(2);
    expect(tiny.stderr).toMatch(/from 0\.1 to 3600/);
    const enough = await e2e.kash(dir, ['shops', '--email', otpEmails.one.email, '--timeout', '0.1']);
    expect(enough.code, enough.stderr).not.toBe(2);
  });
});
