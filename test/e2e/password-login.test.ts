// `kash login` with a login and password, end to end: the built CLI as a real process
// against the emulator, each test with its own config folder.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { type KashRun, useE2e } from '../support/e2e.js';
import { accounts } from '../support/emulator.js';
import { start as startPty } from '../support/pty.js';
import { requires } from '../support/requires.js';
import { passwordCredentials, writeStore } from '../support/store-fixture.js';
import { listDir, storeSnapshot } from '../support/store-snapshot.js';

const PASSWORD_PATH = '/workers/getAuthTokenWithPassword.php';
const WHOAMI_FIELDS = [
  'profile',
  'source',
  'storage',
  'isDefault',
  'shopId',
  'shopTitle',
  'login',
  'email',
  'method',
  'baseUrl',
  'obtainedAt',
  'apiKeyMasked',
];
const { demo, shop2, legacy } = accounts;

// Spawning node costs a few hundred ms of CPU; on two busy cores a test of several spawns needs room.
vi.setConfig({ testTimeout: 30_000 });

const e2e = useE2e();
// freshDir(): a config folder that does not exist yet, so that kash has to create it;
// kash(dir, …): kash --config-dir dir, against the file's emulator.
const { freshDir, kash } = e2e;

function loginDemo(dir: string, extra: string[] = [], env: Record<string, string> = {}): Promise<KashRun> {
  return kash(dir, ['login', '--login', demo.login, ...extra], { env: { KASH_PASSWORD: demo.password, ...env } });
}

interface StoredFile {
  version: number;
  profiles: Record<string, { credentials?: Record<string, unknown> }>;
}

function readStore(dir: string): StoredFile {
  return JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8')) as StoredFile;
}

function savedCredentials(dir: string, profile = 'default'): Record<string, unknown> {
  const credentials = readStore(dir).profiles[profile]?.credentials;
  expect(credentials, `profile "${profile}" saved`).toBeDefined();
  return credentials!;
}

const requestsTo = (path: string) => e2e.emulator.requests.filter((r) => r.path === path).length;

describe('kash login with a password', () => {
  it('logs in with --login and KASH_PASSWORD, sent as form fields to the password endpoint, saves every fact in a 0600 file in a 0700 folder, and keeps stdout empty', async () => {
    const dir = freshDir();
    const from = e2e.emulator.requests.length;
    const before = Date.now();
    const run = await loginDemo(dir);
    const after = Date.now();
    const sent = e2e.emulator.requests.slice(from);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.path).toBe(PASSWORD_PATH);
    expect(sent[0]!.fields).toEqual({ login: demo.login, password: demo.password });

    expect(run.code).toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('default');
    expect(run.stderr).not.toContain(demo.apiKey);

    const saved = savedCredentials(dir);
    expect(saved).toMatchObject({
      apiKey: demo.apiKey,
      shopId: '42',
      login: demo.login,
      method: 'password',
      baseUrl: e2e.emulator.url,
    });
    expect(typeof saved.obtainedAt).toBe('string');
    const obtained = Date.parse(saved.obtainedAt as string);
    expect(obtained).toBeGreaterThanOrEqual(before - 1000);
    expect(obtained).toBeLessThanOrEqual(after + 1000);

    expect(statSync(join(dir, 'credentials.json')).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('reads the password from --password-stdin: one line, its line break stripped', async () => {
    const [lf, crlf, twoLines, noBreak] = await Promise.all(
      [`${demo.password}\n`, `${demo.password}\r\n`, `${demo.password}\nsomething else\n`, demo.password].map(
        (input, i) => {
          const dir = freshDir();
          return kash(dir, ['--profile', `p${i}`, 'login', '--login', demo.login, '--password-stdin'], { input }).then(
            (run) => ({ run, dir, i }),
          );
        },
      ),
    );
    for (const { run, dir, i } of [lf!, crlf!, twoLines!, noBreak!]) {
      expect(run.code, `case ${i}: ${run.stderr}`).toBe(0);
      expect(run.stdout).toBe('');
      expect(savedCredentials(dir, `p${i}`)).toMatchObject({ apiKey: demo.apiKey, shopId: '42' });
    }
  });

  it('passes a password with quotes, a dollar and a space through --password-stdin unchanged, and stores a numeric SHOPID as a string', async () => {
    const dir = freshDir();
    const from = e2e.emulator.requests.length;
    const run = await kash(dir, ['login', '--login', shop2.login, '--password-stdin'], {
      input: `${shop2.password}\n`,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(e2e.emulator.requests.slice(from).map((r) => r.fields.password)).toEqual([shop2.password]);
    const saved = savedCredentials(dir);
    expect(saved.apiKey).toBe(shop2.apiKey);
    // The emulator sends SHOPID as the JSON number 1337.
    expect(saved.shopId).toBe('1337');
    expect(saved.login).toBe('shop2');
  });

  it('takes the login from KASH_LOGIN, and accepts the older {"result":"OK"} answer shape', async () => {
    const dir = freshDir();
    const run = await kash(dir, ['login'], { env: { KASH_LOGIN: legacy.login, KASH_PASSWORD: legacy.password } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('');
    expect(savedCredentials(dir)).toMatchObject({
      apiKey: legacy.apiKey,
      shopId: '7',
      login: 'legacy',
      method: 'password',
    });
  });

  it('with --json prints exactly one JSON document on stdout: the whoami object, without the key', async () => {
    const dir = freshDir();
    const run = await loginDemo(dir, ['--json']);
    expect(run.code, run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(Object.keys(doc).sort()).toEqual([...WHOAMI_FIELDS].sort());
    expect(doc).toMatchObject({
      profile: 'default',
      source: 'store',
      shopId: '42',
      login: demo.login,
      method: 'password',
      baseUrl: e2e.emulator.url,
      apiKeyMasked: 'demo…cdef',
    });
    expect(run.stdout).not.toContain(demo.apiKey);
    expect(run.stderr).not.toContain(demo.apiKey);
    expect(doc.obtainedAt).toBe(savedCredentials(dir).obtainedAt);
  });
});

describe('kash login --no-save', () => {
  it('writes no file and prints the credentials as sh exports by default', async () => {
    const dir = freshDir();
    const run = await loginDemo(dir, ['--no-save']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(`export KASH_APIKEY='${demo.apiKey}'\nexport KASH_SHOPID='42'\n`);
    expect(existsSync(join(dir, 'credentials.json'))).toBe(false);
    expect(listDir(dir)).toEqual([]);
  });

  it('prints each --format as `kash env --format` does, and still writes nothing', async () => {
    const formats = ['fish', 'powershell', 'cmd', 'dotenv', 'json'];
    const dirs = formats.map(() => freshDir());
    const printed = await Promise.all(
      formats.map((format, i) => loginDemo(dirs[i]!, ['--no-save', '--format', format])),
    );
    formats.forEach((format, i) => {
      expect(printed[i]!.code, `${format}: ${printed[i]!.stderr}`).toBe(0);
      expect(listDir(dirs[i]!), format).toEqual([]);
    });
    const byFormat = Object.fromEntries(formats.map((format, i) => [format, printed[i]!.stdout]));
    expect(JSON.parse(byFormat.json!)).toEqual({ KASH_APIKEY: demo.apiKey, KASH_SHOPID: '42' });
    expect(byFormat.json).toBe(`${JSON.stringify({ KASH_APIKEY: demo.apiKey, KASH_SHOPID: '42' })}\n`);
    expect(byFormat.fish).toBe(`set -gx KASH_APIKEY '${demo.apiKey}'\nset -gx KASH_SHOPID '42'\n`);
    expect(byFormat.powershell).toBe(`$env:KASH_APIKEY = '${demo.apiKey}'\n$env:KASH_SHOPID = '42'\n`);
    expect(byFormat.cmd).toBe(`set "KASH_APIKEY=${demo.apiKey}"\nset "KASH_SHOPID=42"\n`);
    expect(byFormat.dotenv).toBe(`KASH_APIKEY="${demo.apiKey}"\nKASH_SHOPID="42"\n`);
  });

  it('prints a numeric SHOPID and a password-login of shop2 exactly as `kash env` prints the saved ones', async () => {
    const saved = freshDir();
    const notSaved = freshDir();
    const input = `${shop2.password}\n`;
    const [login, printed] = await Promise.all([
      kash(saved, ['login', '--login', shop2.login, '--password-stdin'], { input }),
      kash(notSaved, ['login', '--login', shop2.login, '--password-stdin', '--no-save'], { input }),
    ]);
    expect(login.code, login.stderr).toBe(0);
    expect(printed.code, printed.stderr).toBe(0);
    const env = await kash(saved, ['env']);
    expect(env.code, env.stderr).toBe(0);
    expect(printed.stdout).toBe(env.stdout);
    expect(printed.stdout).toBe(`export KASH_APIKEY='${shop2.apiKey}'\nexport KASH_SHOPID='1337'\n`);
    expect(listDir(notSaved)).toEqual([]);
  });

  it('with --json prints one document holding the apiKey and the shopId', async () => {
    const dir = freshDir();
    const run = await loginDemo(dir, ['--no-save', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(doc).toMatchObject({
      apiKey: demo.apiKey,
      shopId: '42',
      login: demo.login,
      method: 'password',
    });
    // The whoami fields, those that say where they are saved null: saved nowhere, not in a profile.
    expect(Object.keys(doc).sort()).toEqual(['apiKey', ...WHOAMI_FIELDS].sort());
    expect(doc).toMatchObject({ profile: null, source: null, storage: null, isDefault: null });
    expect(listDir(dir)).toEqual([]);
  });

  it('refuses --format without --no-save (exit 2), before asking the service', async () => {
    const dir = freshDir();
    const from = e2e.emulator.requests.length;
    const run = await loginDemo(dir, ['--format', 'sh']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: .*--format/m);
    expect(run.stdout).toBe('');
    expect(e2e.emulator.requests.length).toBe(from);
    expect(listDir(dir)).toEqual([]);
  });
});

describe('kash login failures', () => {
  it("a wrong password is exit 3 with the server's words, and the store stays byte for byte as it was", async () => {
    const dir = freshDir();
    writeStore(dir, { default: { credentials: passwordCredentials(demo, e2e.emulator.url) } });
    const before = storeSnapshot(dir);
    const run = await kash(dir, ['login', '--login', demo.login], { env: { KASH_PASSWORD: 'not-the-password' } });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^error: .*Authentication error/m);
    expect(run.stderr).not.toContain('not-the-password');
    expect(run.stdout).toBe('');
    expect(storeSnapshot(dir)).toEqual(before);
  });

  describe.each([
    ['a pipe for stdin', {}],
    ['KASH_NO_INPUT=1', { KASH_NO_INPUT: '1' }],
    ['CI=true', { CI: 'true' }],
  ])('with no way to prompt (%s)', (_label, extraEnv: Record<string, string>) => {
    it('a missing login is exit 2 naming --login and KASH_LOGIN; a missing password names --password-stdin and KASH_PASSWORD', async () => {
      const from = e2e.emulator.requests.length;
      const noLoginDir = freshDir();
      const noPasswordDir = freshDir();
      const [noLogin, noPassword] = await Promise.all([
        kash(noLoginDir, ['login'], { env: { ...extraEnv, KASH_PASSWORD: demo.password } }),
        kash(noPasswordDir, ['login', '--login', demo.login], { env: extraEnv }),
      ]);
      expect(noLogin.code).toBe(2);
      expect(noLogin.stderr).toMatch(/^error: /m);
      expect(noLogin.stderr).toContain('--login');
      expect(noLogin.stderr).toContain('KASH_LOGIN');
      expect(noPassword.code).toBe(2);
      expect(noPassword.stderr).toMatch(/^error: /m);
      expect(noPassword.stderr).toContain('--password-stdin');
      expect(noPassword.stderr).toContain('KASH_PASSWORD');
      expect(noLogin.stdout + noPassword.stdout).toBe('');
      expect(e2e.emulator.requests.length).toBe(from);
      expect(listDir(noLoginDir)).toEqual([]);
      expect(listDir(noPasswordDir)).toEqual([]);
    });
  });

  requires('script').it(
    'at a terminal, KASH_NO_INPUT=1, CI=true and --no-input still refuse to prompt: exit 2 naming the flag and the variable',
    async () => {
      const from = e2e.emulator.requests.length;
      const dir = freshDir();
      const common = { KASH_BASE_URL: e2e.emulator.url, KASH_CONFIG_DIR: dir };
      const sessions = [
        startPty(['login', '--login', demo.login], { ...common, KASH_NO_INPUT: '1' }),
        startPty(['login', '--login', demo.login], { ...common, CI: 'true' }),
        startPty(['login', '--login', demo.login, '--no-input'], common),
        startPty(['login', '--no-input'], { ...common, KASH_PASSWORD: demo.password }),
      ];
      try {
        const codes = await Promise.all(sessions.map((session) => session.exit(15_000)));
        expect(codes).toEqual([2, 2, 2, 2]);
      } finally {
        for (const session of sessions) session.kill();
      }
      for (const session of sessions.slice(0, 3)) {
        expect(session.output()).toMatch(/error: /);
        expect(session.output()).toContain('--password-stdin');
        expect(session.output()).toContain('KASH_PASSWORD');
        expect(session.output()).not.toMatch(/Password:/);
      }
      expect(sessions[3]!.output()).toContain('--login');
      expect(sessions[3]!.output()).toContain('KASH_LOGIN');
      expect(e2e.emulator.requests.length).toBe(from);
      expect(listDir(dir)).toEqual([]);
    },
  );

  it('an empty line on --password-stdin is a usage error, not a login attempt', async () => {
    const dir = freshDir();
    const from = e2e.emulator.requests.length;
    const run = await kash(dir, ['login', '--login', demo.login, '--password-stdin'], { input: '\n' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: /m);
    expect(e2e.emulator.requests.length).toBe(from);
  });
});

describe('kash login and what is already there', () => {
  it('still saves when KASH_APIKEY and KASH_SHOPID are set, and warns that commands without --profile use them', async () => {
    const dir = freshDir();
    const run = await loginDemo(dir, [], { KASH_APIKEY: 'env-api-key-999999999999', KASH_SHOPID: '999' });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('');
    expect(savedCredentials(dir)).toMatchObject({ apiKey: demo.apiKey, shopId: '42' });
    expect(run.stderr).toMatch(
      /warning: KASH_APIKEY and KASH_SHOPID are set: commands run here without --profile will use them/,
    );
  });

  it('sets a corrupt store aside (renamed, same bytes), warns, and saves afresh', async () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const garbage = Buffer.from('{"version":1,"profiles":{"default":{"credentials":\u0000garbage not json \xff');
    writeFileSync(join(dir, 'credentials.json'), garbage, { mode: 0o600 });

    const run = await loginDemo(dir);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/warning:.*corrupt/i);

    const aside = listDir(dir).filter((name) => name.startsWith('credentials.json.corrupt-'));
    expect(aside).toHaveLength(1);
    expect(run.stderr).toContain(aside[0]!);
    expect(readFileSync(join(dir, aside[0]!)).equals(garbage)).toBe(true);
    expect(savedCredentials(dir)).toMatchObject({ apiKey: demo.apiKey, shopId: '42', method: 'password' });
  });

  it('a failed login leaves a corrupt store where and as it was (nothing set aside)', async () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, 'credentials.json'), 'garbage', { mode: 0o600 });
    const before = storeSnapshot(dir);
    const run = await kash(dir, ['login', '--login', demo.login], { env: { KASH_PASSWORD: 'wrong' } });
    expect(run.code).toBe(3);
    expect(storeSnapshot(dir)).toEqual(before);
  });

  // test/e2e/stress.test.ts contends harder, logouts included.
  it('10 simultaneous logins to 10 profiles in one folder lose none of them', async () => {
    const dir = freshDir();
    const profiles = Array.from({ length: 10 }, (_, i) => `p${String(i).padStart(2, '0')}`);
    const from = requestsTo(PASSWORD_PATH);
    const runs = await Promise.all(
      profiles.map((profile, i) =>
        i % 2 === 0
          ? kash(dir, ['--profile', profile, 'login', '--login', demo.login], {
              env: { KASH_PASSWORD: demo.password },
              timeoutMs: 55_000,
            })
          : kash(dir, ['--profile', profile, 'login', '--login', shop2.login, '--password-stdin'], {
              input: `${shop2.password}\n`,
              timeoutMs: 55_000,
            }),
      ),
    );
    for (const [i, run] of runs.entries()) expect(run.code, `${profiles[i]}: ${run.stderr}`).toBe(0);
    expect(requestsTo(PASSWORD_PATH) - from).toBe(10);

    const store = readStore(dir);
    expect(Object.keys(store.profiles).sort()).toEqual(profiles);
    profiles.forEach((profile, i) => {
      expect(store.profiles[profile]?.credentials?.apiKey, profile).toBe(i % 2 === 0 ? demo.apiKey : shop2.apiKey);
    });
    // No lock or temporary file is left behind.
    expect(listDir(dir)).toEqual(['credentials.json']);
    expect(statSync(join(dir, 'credentials.json')).mode & 0o777).toBe(0o600);
  }, 60_000);
});
