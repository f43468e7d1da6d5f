// `kash whoami`, `kash env` and `kash logout`, end to end: the built CLI as a real
// process against the emulator, each test with its own config folder.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { KASH_BIN, type KashRun, useE2e } from '../support/e2e.js';
import { accounts } from '../support/emulator.js';
import { requires } from '../support/requires.js';
import { passwordCredentials, writeStore } from '../support/store-fixture.js';
import { copyConfigDir, listDir, storeSnapshot } from '../support/store-snapshot.js';

const execFileAsync = promisify(execFile);
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
const ENV_KEY = 'env-api-key-abcdefghijkl';

// Spawning node costs a few hundred ms of CPU; on two busy cores a test of several spawns needs room.
vi.setConfig({ testTimeout: 30_000 });

const e2e = useE2e();
const { freshDir, kash } = e2e;
/** The store of password logins as demo (default), shop2 (p2) and legacy (old); tests that change the store use copies. */
let shared: string;

/** A copy (bytes and modes) of the shared folder, for a test that changes the store. */
function copyOfShared(): string {
  const dir = freshDir();
  copyConfigDir(shared, dir);
  return dir;
}

async function login(dir: string, who: 'demo' | 'shop2' | 'legacy', profile = 'default'): Promise<void> {
  const account = accounts[who];
  const run = await kash(dir, ['--profile', profile, 'login', '--login', account.login, '--password-stdin'], {
    input: `${account.password}\n`,
  });
  expect(run.code, run.stderr).toBe(0);
}

function parseJson<T>(run: KashRun): T {
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as T;
}

type View = Record<string, unknown>;

beforeAll(() => {
  shared = freshDir();
  const { url } = e2e.emulator;
  writeStore(shared, {
    default: { credentials: passwordCredentials(demo, url) },
    p2: { credentials: passwordCredentials(shop2, url) },
    old: { credentials: passwordCredentials(legacy, url) },
  });
});

const allKeys = [demo.apiKey, shop2.apiKey, legacy.apiKey, ENV_KEY];
function expectNoKey(run: KashRun): void {
  for (const key of allKeys) {
    expect(run.stdout, 'stdout').not.toContain(key);
    expect(run.stderr, 'stderr').not.toContain(key);
  }
}

/** The environment of kash's test runs, for the real shells that run kash here. */
const shellEnv = (extra: Record<string, string>) => e2e.env(extra);

describe('kash whoami', () => {
  it('shows profile, shop ID, login, method, base URL, when (local time, how long ago), source and the masked key on stdout, the result of the query', async () => {
    const run = await kash(shared, ['whoami']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    for (const fact of ['default', '42', demo.login, 'password', e2e.emulator.url, 'demo…cdef']) {
      expect(run.stdout, fact).toContain(fact);
    }
    expect(run.stdout).toMatch(/^Obtained +\d{4}-\d\d-\d\d \d\d:\d\d [+-]\d\d:\d\d \((just now|\d+ \w+ ago)\)$/m);
    // Where they come from: the store (its file), not the environment.
    expect(run.stdout).toMatch(/saved|store|credentials\.json/i);
    expect(run.stdout).not.toMatch(/environment/i);
    expectNoKey(run);
  });

  it('--json holds exactly the documented fields and no key', async () => {
    const run = await kash(shared, ['whoami', '--json']);
    const view = parseJson<View>(run);
    expect(Object.keys(view).sort()).toEqual([...WHOAMI_FIELDS].sort());
    expect(view).toEqual({
      profile: 'default',
      source: 'store',
      storage: 'file',
      isDefault: true,
      shopId: '42',
      shopTitle: null,
      login: demo.login,
      email: null,
      method: 'password',
      baseUrl: e2e.emulator.url,
      obtainedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      apiKeyMasked: 'demo…cdef',
    });
    expectNoKey(run);
  });

  it('--all --json is an array of those objects, one per saved profile', async () => {
    const run = await kash(shared, ['whoami', '--all', '--json']);
    const views = parseJson<View[]>(run);
    expect(Array.isArray(views)).toBe(true);
    expect(views.map((v) => v.profile).sort()).toEqual(['default', 'old', 'p2']);
    for (const view of views) expect(Object.keys(view).sort()).toEqual([...WHOAMI_FIELDS].sort());
    const byProfile = Object.fromEntries(views.map((v) => [v.profile, v]));
    expect(byProfile.p2).toMatchObject({ shopId: '1337', login: 'shop2', source: 'store', apiKeyMasked: 'shop…3210' });
    expect(byProfile.old).toMatchObject({ shopId: '7', login: 'legacy', source: 'store' });
    expectNoKey(run);
  });

  it('--profile picks the saved profile', async () => {
    const view = parseJson<View>(await kash(shared, ['whoami', '--json', '--profile', 'p2']));
    expect(view).toMatchObject({ profile: 'p2', shopId: '1337', login: 'shop2' });
  });

  it('not logged in is exit 5 with a hint naming `kash login` (whoami and env alike)', async () => {
    const dir = freshDir();
    const [whoami, json, env, otherProfile] = await Promise.all([
      kash(dir, ['whoami']),
      kash(dir, ['whoami', '--json']),
      kash(dir, ['env']),
      kash(shared, ['whoami', '--profile', 'nobody']),
    ]);
    for (const run of [whoami, json, env, otherProfile]) {
      expect(run.code, run.stderr).toBe(5);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/^error: /m);
      expect(run.stderr).toContain('kash login');
    }
    // Reading must not create the store.
    expect(existsSync(dir)).toBe(false);
  });

  it('with KASH_APIKEY and KASH_SHOPID set, the source is "env" and env prints them', async () => {
    const env = { KASH_APIKEY: ENV_KEY, KASH_SHOPID: '999' };
    const [json, text, printed, noStore] = await Promise.all([
      kash(shared, ['whoami', '--json'], { env }),
      kash(shared, ['whoami'], { env }),
      kash(shared, ['env'], { env }),
      kash(freshDir(), ['whoami', '--json'], { env }),
    ]);
    for (const run of [json, noStore]) {
      const view = parseJson<View>(run);
      expect(view).toMatchObject({ source: 'env', shopId: '999', apiKeyMasked: 'env-…ijkl' });
      expect(Object.keys(view).sort()).toEqual([...WHOAMI_FIELDS].sort());
      expectNoKey(run);
    }
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/environment|KASH_APIKEY/);
    expect(text.stdout).toContain('999');
    expectNoKey(text);
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toBe(`export KASH_APIKEY='${ENV_KEY}'\nexport KASH_SHOPID='999'\n`);
  });

  it('masks none of a key shorter than 12 characters', async () => {
    const key = 'short-key1';
    const view = parseJson<View>(
      await kash(freshDir(), ['whoami', '--json'], { env: { KASH_APIKEY: key, KASH_SHOPID: '5' } }),
    );
    const masked = String(view.apiKeyMasked);
    expect(masked).not.toContain(key.slice(0, 4));
    expect(masked).not.toContain(key.slice(-4));
  });

  it('ignores KASH_APIKEY or KASH_SHOPID set alone', async () => {
    const empty = freshDir();
    const [keyOnly, shopOnly, keyOnlyEnv, shopOnlyEnv] = await Promise.all([
      kash(empty, ['whoami'], { env: { KASH_APIKEY: ENV_KEY } }),
      kash(shared, ['whoami', '--json'], { env: { KASH_SHOPID: '999' } }),
      kash(empty, ['env'], { env: { KASH_APIKEY: ENV_KEY } }),
      kash(shared, ['env'], { env: { KASH_SHOPID: '999' } }),
    ]);
    expect(keyOnly.code).toBe(5);
    expect(keyOnlyEnv.code).toBe(5);
    expect(keyOnlyEnv.stdout).toBe('');
    expect(parseJson<View>(shopOnly)).toMatchObject({ source: 'store', shopId: '42' });
    expect(shopOnlyEnv.code, shopOnlyEnv.stderr).toBe(0);
    expect(shopOnlyEnv.stdout).toBe(`export KASH_APIKEY='${demo.apiKey}'\nexport KASH_SHOPID='42'\n`);
  });
});

describe('kash env', () => {
  requires('bash').it('prints sh that bash evaluates to the saved key and shop ID', async () => {
    const { stdout } = await execFileAsync(
      'bash',
      ['-c', 'eval "$(node "$KASH_BIN_PATH" env)"; printf "%s\\n%s" "$KASH_APIKEY" "$KASH_SHOPID"'],
      { env: shellEnv({ KASH_BIN_PATH: KASH_BIN, KASH_CONFIG_DIR: shared, KASH_BASE_URL: e2e.emulator.url }) },
    );
    expect(stdout).toBe(`${demo.apiKey}\n42`);
  });

  requires('bash').it('sh output carries a hostile value exactly and runs nothing', async () => {
    const cwd = e2e.tempDir('eval-');
    const nasty = `a'b"c $(touch pwned) \`touch pwned\` \\ '\\'' ;|& $HOME\nline two\n`;
    const { stdout } = await execFileAsync(
      'bash',
      ['-c', 'eval "$(node "$KASH_BIN_PATH" env --prefix OUT_)" && printf "%s|%s" "$OUT_APIKEY" "$OUT_SHOPID"'],
      {
        cwd,
        env: shellEnv({
          KASH_BIN_PATH: KASH_BIN,
          KASH_CONFIG_DIR: join(cwd, 'none'),
          KASH_APIKEY: nasty,
          KASH_SHOPID: '7',
        }),
      },
    );
    expect(stdout).toBe(`${nasty}|7`);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('--prefix MY_ names the variables MY_APIKEY and MY_SHOPID', async () => {
    const run = await kash(shared, ['env', '--prefix', 'MY_']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(`export MY_APIKEY='${demo.apiKey}'\nexport MY_SHOPID='42'\n`);
  });

  it('prints the documented first line in each of the six formats', async () => {
    const expected: Record<string, string> = {
      sh: `export KASH_APIKEY='${demo.apiKey}'`,
      fish: `set -gx KASH_APIKEY '${demo.apiKey}'`,
      powershell: `$env:KASH_APIKEY = '${demo.apiKey}'`,
      cmd: `set "KASH_APIKEY=${demo.apiKey}"`,
      dotenv: `KASH_APIKEY="${demo.apiKey}"`,
      json: JSON.stringify({ KASH_APIKEY: demo.apiKey, KASH_SHOPID: '42' }),
    };
    const formats = Object.keys(expected);
    const runs = await Promise.all(formats.map((format) => kash(shared, ['env', '--format', format])));
    formats.forEach((format, i) => {
      const run = runs[i]!;
      expect(run.code, `${format}: ${run.stderr}`).toBe(0);
      expect(run.stdout.split('\n')[0], format).toBe(expected[format]);
      expect(run.stdout.endsWith('\n'), format).toBe(true);
    });
    expect(JSON.parse(runs[formats.indexOf('json')]!.stdout)).toEqual({ KASH_APIKEY: demo.apiKey, KASH_SHOPID: '42' });
  });

  it('a bad --format is exit 2 and prints nothing on stdout', async () => {
    const run = await kash(shared, ['env', '--format', 'bash']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^error: .*format/m);
  });

  it('refuses (exit 2) to print a key holding " in the cmd format, and does not show it', async () => {
    const key = 'evil"key&calc.exe&rem-1234';
    const run = await kash(freshDir(), ['env', '--format', 'cmd'], { env: { KASH_APIKEY: key, KASH_SHOPID: '42' } });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^error: /m);
    expect(run.stderr).not.toContain(key);
    expect(run.stderr).not.toContain('calc.exe');
  });
});

describe('kash env --json', () => {
  it('is the json format; a --format that disagrees is exit 2', async () => {
    const dir = copyOfShared();
    const json = await kash(dir, ['env', '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ KASH_APIKEY: demo.apiKey, KASH_SHOPID: demo.shopId });
    const agreeing = await kash(dir, ['env', '--json', '--format', 'json']);
    expect(agreeing.stdout).toBe(json.stdout);
    const disagreeing = await kash(dir, ['env', '--json', '--format', 'sh']);
    expect(disagreeing.code).toBe(2);
    expect(disagreeing.stdout).toBe('');
    expect(disagreeing.stderr).toMatch(/^error: --json and --format sh disagree/m);
  });
});

describe('kash logout', () => {
  it('removes the profile (whoami is then exit 5) and keeps the others', async () => {
    const dir = copyOfShared();
    const out = await kash(dir, ['logout']);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toBe('');
    const [whoami, other, all] = await Promise.all([
      kash(dir, ['whoami']),
      kash(dir, ['whoami', '--json', '--profile', 'p2']),
      kash(dir, ['whoami', '--all', '--json']),
    ]);
    expect(whoami.code).toBe(5);
    expect(parseJson<View>(other)).toMatchObject({ profile: 'p2', shopId: '1337' });
    expect(
      parseJson<View[]>(all)
        .map((v) => v.profile)
        .sort(),
    ).toEqual(['old', 'p2']);
    const stored = readFileSync(join(dir, 'credentials.json'), 'utf8');
    expect(stored).not.toContain(demo.apiKey);
    expect(stored).toContain(shop2.apiKey);
    expect(statSync(join(dir, 'credentials.json')).mode & 0o777).toBe(0o600);
  });

  it('--all removes every profile', async () => {
    const dir = copyOfShared();
    const out = await kash(dir, ['logout', '--all']);
    expect(out.code, out.stderr).toBe(0);
    const [all, p2] = await Promise.all([kash(dir, ['whoami', '--all']), kash(dir, ['whoami', '--profile', 'p2'])]);
    expect(all.code).toBe(5);
    expect(p2.code).toBe(5);
    const stored = existsSync(join(dir, 'credentials.json')) ? readFileSync(join(dir, 'credentials.json'), 'utf8') : '';
    for (const key of [demo.apiKey, shop2.apiKey, legacy.apiKey]) expect(stored).not.toContain(key);
  });

  it('when logged out is exit 0 and creates no file', async () => {
    const missing = freshDir();
    const empty = e2e.tempDir();
    const runs = await Promise.all([
      kash(missing, ['logout']),
      kash(missing, ['logout', '--all']),
      kash(empty, ['logout']),
      kash(empty, ['logout', '--all', '--json']),
    ]);
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    expect(existsSync(missing)).toBe(false);
    expect(listDir(empty)).toEqual([]);
    expect(JSON.parse(runs[3]!.stdout)).toEqual({ removed: [] });
  });

  it('--json prints {"removed": [...]}', async () => {
    const dir = copyOfShared();
    const one = await kash(dir, ['logout', '--json', '--profile', 'p2']);
    expect(one.code, one.stderr).toBe(0);
    expect(JSON.parse(one.stdout)).toEqual({ removed: ['p2'] });
    const again = await kash(dir, ['logout', '--json', '--profile', 'p2']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ removed: [] });
    const rest = await kash(dir, ['logout', '--all', '--json']);
    expect(rest.code).toBe(0);
    expect((JSON.parse(rest.stdout) as { removed: string[] }).removed.sort()).toEqual(['default', 'old']);
  });
});

describe('a store kash cannot use', () => {
  it('corrupt: whoami, env and logout each exit 6 naming the file, and leave it unchanged', async () => {
    const dir = e2e.tempDir();
    const file = join(dir, 'credentials.json');
    writeFileSync(file, '{"version":1,"profiles":{"default":{"credentials":{"apiKey":', { mode: 0o600 });
    const before = storeSnapshot(dir);
    const runs = await Promise.all(
      [['whoami'], ['whoami', '--all', '--json'], ['env'], ['logout'], ['logout', '--all']].map((args) =>
        kash(dir, args),
      ),
    );
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(6);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/^error: /m);
      expect(run.stderr).toContain(file);
    }
    expect(storeSnapshot(dir)).toEqual(before);
  });

  it('valid JSON that is not a store counts as corrupt too', async () => {
    const dir = e2e.tempDir();
    const file = join(dir, 'credentials.json');
    writeFileSync(file, '{"default":{"apiKey":42}}\n', { mode: 0o600 });
    const before = storeSnapshot(dir);
    const [whoami, env] = await Promise.all([kash(dir, ['whoami']), kash(dir, ['env'])]);
    for (const run of [whoami, env]) {
      expect(run.code, run.stderr).toBe(6);
      expect(run.stderr).toContain(file);
    }
    expect(storeSnapshot(dir)).toEqual(before);
  });

  it('unusable (its folder would be under a regular file): login exits 6 before asking the service; whoami and env exit 6', async () => {
    const root = e2e.tempDir();
    const blocker = join(root, 'file');
    writeFileSync(blocker, 'not a folder\n');
    const dir = join(blocker, 'sub');
    const from = e2e.emulator.requests.length;
    const run = await kash(dir, ['login', '--login', demo.login], { env: { KASH_PASSWORD: demo.password } });
    expect(run.code, run.stderr).toBe(6);
    // Credentials that could not be kept are not asked for.
    expect(e2e.emulator.requests.length - from).toBe(0);
    expect(run.stderr).toMatch(/^error: /m);
    expect(run.stderr).toContain(dir);
    expect(run.stdout).toBe('');
    expectNoKey(run);

    const [whoami, env] = await Promise.all([kash(dir, ['whoami']), kash(dir, ['env'])]);
    // The contract: a store that cannot be read is exit 6, not "not logged in".
    expect(whoami.code, whoami.stderr).toBe(6);
    expect(env.code, env.stderr).toBe(6);
    expect(env.stdout).toBe('');
    expect(readFileSync(blocker, 'utf8')).toBe('not a folder\n');
  });

  it('a store file of mode 0644 is tightened to 0600 with a warning, and still used', async () => {
    const dir = copyOfShared();
    const file = join(dir, 'credentials.json');
    const bytes = readFileSync(file);
    chmodSync(file, 0o644);
    const whoami = await kash(dir, ['whoami', '--json']);
    expect(whoami.code, whoami.stderr).toBe(0);
    expect(whoami.stderr).toMatch(/^warning: .*(0644|0600|permission|mode)/im);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(whoami.stdout)).toMatchObject({ profile: 'default', shopId: '42' });
    expect(readFileSync(file).equals(bytes)).toBe(true);

    // env tightens too, and keeps the warning off stdout.
    chmodSync(file, 0o644);
    const env = await kash(dir, ['env']);
    expect(env.code, env.stderr).toBe(0);
    expect(env.stdout).toBe(`export KASH_APIKEY='${demo.apiKey}'\nexport KASH_SHOPID='42'\n`);
    expect(env.stderr).toMatch(/^warning: /m);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('a login into a folder that already holds a 0644 store leaves it 0600', async () => {
    const dir = copyOfShared();
    chmodSync(join(dir, 'credentials.json'), 0o644);
    await login(dir, 'shop2', 'p2');
    expect(statSync(join(dir, 'credentials.json')).mode & 0o777).toBe(0o600);
  });
});
