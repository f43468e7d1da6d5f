// The code cache that bin/kash.js keeps for the bundle: in kash's own cache folder, and
// only in one that nobody else could have planted code in; used only for the very bundle
// it was made from; in any doubt kash runs without it, and says nothing.
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KASH_BIN, runKash, tempDir, useE2e } from '../support/e2e.js';
import { requires } from '../support/requires.js';

useE2e({ emulator: false });

const BUNDLE = readFileSync(join(KASH_BIN, '..', '..', 'dist', 'kash.cjs'));

/** `kash --version` with this cache home: it must print the version and nothing else, whatever the folder. */
async function run(env: Record<string, string | undefined>): Promise<void> {
  const { code, stdout, stderr } = await runKash(['--version'], { env });
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  expect(stdout).toMatch(/^\d+\.\d+\.\d+/);
}

/** The cache files in `folder` (none when it does not exist). */
const cacheFiles = (folder: string) =>
  existsSync(folder) ? readdirSync(folder).filter((name) => name.endsWith('.cache')) : [];

/** A cache file as kash writes it: the bundle's length and the bundle, whether its run reached the keyring, then V8's data. */
function cacheBytes(bundle: Buffer, v8: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32LE(bundle.length, 0);
  return Buffer.concat([length, bundle, Buffer.of(0), v8]);
}

/** The byte after the bundle: where the run that made the cache went (1: the keyring; 2: it succeeded). */
const madeBy = (file: string) => readFileSync(file)[4 + BUNDLE.length] ?? 0;
const madeWithKeyring = (file: string) => (madeBy(file) & 1) !== 0;
const madeBySuccess = (file: string) => (madeBy(file) & 2) !== 0;

/** The kind of run a cache file was made by, from its name (kash-<v8>-<arch>-<kind>.cache). */
const kindOf = (name: string) =>
  name.match(new RegExp(`^kash-${process.versions.v8}-${process.arch}-(.+)\\.cache$`))?.[1];

/** A saved profile's credentials, as kash writes them, with `storage` saying where its key is. */
const credentials = (storage: object) => ({
  shopId: '42',
  login: null,
  email: null,
  method: 'key',
  baseUrl: 'https://kash.click',
  obtainedAt: '2026-01-01T00:00:00.000Z',
  shopTitle: null,
  ...storage,
});

/** A store file in `config` holding these profiles. */
function writeStore(config: string, profiles: Record<string, object>): void {
  const entries = Object.entries(profiles).map(([name, saved]) => [name, { credentials: saved }]);
  writeFileSync(
    join(config, 'credentials.json'),
    JSON.stringify({ version: 2, profiles: Object.fromEntries(entries) }),
    { mode: 0o600 },
  );
}

/** A cache home after one `kash --version`, and its cache file. */
async function firstCache(): Promise<{ home: string; file: string }> {
  const home = tempDir('cache-');
  await run({ XDG_CACHE_HOME: home });
  return { home, file: join(home, 'kash', cacheFiles(join(home, 'kash'))[0] as string) };
}

describe('the code cache', () => {
  it('lives in $XDG_CACHE_HOME/kash, made 0700, and holds the bundle it was made from', async () => {
    const home = tempDir('cache-');
    await run({ XDG_CACHE_HOME: home });
    const folder = join(home, 'kash');
    expect(lstatSync(folder).mode & 0o777).toBe(0o700);
    const [file] = cacheFiles(folder);
    expect(file).toBeDefined();
    const bytes = readFileSync(join(folder, file as string));
    expect(lstatSync(join(folder, file as string)).mode & 0o777).toBe(0o600);
    expect(bytes.subarray(4, 4 + BUNDLE.length).equals(BUNDLE)).toBe(true);
    expect(kindOf(file as string)).toBe('--version');
    // Used as it is by the next run of the same kind: not written again.
    const before = lstatSync(join(folder, file as string)).mtimeMs;
    await run({ XDG_CACHE_HOME: home });
    expect(lstatSync(join(folder, file as string)).mtimeMs).toBe(before);
  });

  it('is one file for each kind of run, each written once, with the code that kind compiled', async () => {
    const { home, file } = await firstCache();
    const first = readFileSync(file);
    // Not logged in (exit 5) is a run like any other.
    await runKash(['whoami'], { env: { XDG_CACHE_HOME: home } });
    const folder = join(home, 'kash');
    expect(cacheFiles(folder).map(kindOf).sort()).toEqual(['--version', 'whoami']);
    expect(readFileSync(file).equals(first), 'the --version cache, left as it was').toBe(true);
    const whoami = join(folder, cacheFiles(folder).find((name) => kindOf(name) === 'whoami') as string);
    const before = lstatSync(whoami).mtimeMs;
    await runKash(['whoami'], { env: { XDG_CACHE_HOME: home } });
    expect(lstatSync(whoami).mtimeMs).toBe(before);
  });

  it('is made again, once, when a run of its kind reaches the keyring that the run which made it did not', async () => {
    const home = tempDir('cache-');
    const config = tempDir('config-');
    const keyringId = `kash-${'1'.repeat(8)}-cache-test`;
    writeStore(config, {
      plain: credentials({ storage: 'file', apiKey: 'k-cache-test' }),
      // No bus to reach: the read fails (exit 6), the library loaded all the same.
      kept: credentials({ storage: 'keyring', keyringId }),
    });
    const env = { XDG_CACHE_HOME: home, KASH_CONFIG_DIR: config, DBUS_SESSION_BUS_ADDRESS: undefined };
    const envRun = async (profile: string, code: number) => {
      const run = await runKash(['env', '--profile', profile], { env });
      expect(run.code, run.stderr).toBe(code);
    };
    const folder = join(home, 'kash');
    const envCache = () => join(folder, cacheFiles(folder).find((name) => kindOf(name) === 'env') as string);

    await envRun('plain', 0);
    expect(madeWithKeyring(envCache())).toBe(false);
    const fileMade = readFileSync(envCache());
    await envRun('kept', 6);
    expect(madeWithKeyring(envCache())).toBe(true);
    expect(readFileSync(envCache()).equals(fileMade)).toBe(false);
    // Both kinds of profile then use it as it is.
    const before = lstatSync(envCache()).mtimeMs;
    await envRun('kept', 6);
    await envRun('plain', 0);
    expect(lstatSync(envCache()).mtimeMs).toBe(before);
  });

  it('is made again, once, when a run of its kind succeeds where the run which made it failed', async () => {
    const home = tempDir('cache-');
    const config = tempDir('config-');
    const env = { XDG_CACHE_HOME: home, KASH_CONFIG_DIR: config };
    const whoami = async (code: number) => {
      const run = await runKash(['whoami'], { env });
      expect(run.code, run.stderr).toBe(code);
    };
    const folder = join(home, 'kash');
    const cache = () => join(folder, cacheFiles(folder).find((name) => kindOf(name) === 'whoami') as string);

    // Before any login: not logged in, twice; the second run uses the first one's cache.
    await whoami(5);
    expect(madeBySuccess(cache())).toBe(false);
    const failed = lstatSync(cache()).mtimeMs;
    await whoami(5);
    expect(lstatSync(cache()).mtimeMs).toBe(failed);

    writeStore(config, { default: credentials({ storage: 'file', apiKey: 'k-cache-test' }) });
    await whoami(0);
    expect(madeBySuccess(cache())).toBe(true);
    const succeeded = lstatSync(cache()).mtimeMs;
    expect(succeeded).not.toBe(failed);
    // Made from both ways now: neither a success nor a failure makes it again.
    await whoami(0);
    rmSync(join(config, 'credentials.json'));
    await whoami(5);
    expect(lstatSync(cache()).mtimeMs).toBe(succeeded);
  });

  it('keeps at most 32 kinds of run: a first word never seen before then adds none', async () => {
    const { home, file } = await firstCache();
    const folder = join(home, 'kash');
    const name = file.slice(folder.length + 1);
    for (let i = 0; i < 31; i++) writeFileSync(join(folder, name.replace('---version.', `-planted${i}.`)), '');
    await runKash(['whoami'], { env: { XDG_CACHE_HOME: home } });
    expect(cacheFiles(folder)).toHaveLength(32);
    expect(cacheFiles(folder).map(kindOf)).not.toContain('whoami');
  });

  it('falls back to ~/.cache/kash when XDG_CACHE_HOME is relative, as the XDG spec says', async () => {
    const home = tempDir('home-');
    await run({ HOME: home, XDG_CACHE_HOME: 'relative/cache' });
    expect(cacheFiles(join(home, '.cache', 'kash'))).toHaveLength(1);
  });

  it('makes its folder and the cache home above it, never a path further up', async () => {
    const home = tempDir('cache-');
    await run({ XDG_CACHE_HOME: join(home, 'typo', 'cache') });
    expect(readdirSync(home)).toEqual([]);
    await run({ XDG_CACHE_HOME: join(home, 'cache') });
    expect(lstatSync(join(home, 'cache')).mode & 0o777).toBe(0o700);
    expect(cacheFiles(join(home, 'cache', 'kash'))).toHaveLength(1);
  });

  it('is not used in a folder that group or others can write to, nor is that folder changed', async () => {
    const home = tempDir('cache-');
    mkdirSync(join(home, 'kash'));
    chmodSync(join(home, 'kash'), 0o777);
    await run({ XDG_CACHE_HOME: home });
    expect(cacheFiles(join(home, 'kash'))).toEqual([]);
    expect(lstatSync(join(home, 'kash')).mode & 0o777).toBe(0o777);
  });

  it('is not used below a parent that others can write to without the sticky bit: they could swap the folder', async () => {
    const home = tempDir('cache-');
    chmodSync(home, 0o777);
    await run({ XDG_CACHE_HOME: home });
    expect(cacheFiles(join(home, 'kash'))).toEqual([]);
  });

  it('is used below a sticky shared parent, as /tmp is', async () => {
    const home = tempDir('cache-');
    chmodSync(home, 0o1777);
    await run({ XDG_CACHE_HOME: home });
    expect(cacheFiles(join(home, 'kash'))).toHaveLength(1);
  });

  it('is not used through a symbolic link', async () => {
    const home = tempDir('cache-');
    const elsewhere = tempDir('elsewhere-');
    symlinkSync(elsewhere, join(home, 'kash'));
    await run({ XDG_CACHE_HOME: home });
    expect(cacheFiles(elsewhere)).toEqual([]);
  });

  requires('chown').it('is not used in a folder that belongs to another user', async () => {
    const home = tempDir('cache-');
    mkdirSync(join(home, 'kash'), { mode: 0o700 });
    chownSync(join(home, 'kash'), 65534, 65534);
    await run({ XDG_CACHE_HOME: home });
    expect(cacheFiles(join(home, 'kash'))).toEqual([]);
  });

  it('made from another bundle of the same length, is never run: it is replaced', async () => {
    const { home, file } = await firstCache();
    const genuine = readFileSync(file);
    // Another bundle, byte for byte as long, with the V8 data of this one: V8 alone would take it.
    const other = Buffer.from(BUNDLE);
    other[other.length - 2] = other[other.length - 2] === 0x20 ? 0x21 : 0x20;
    const rest = genuine.subarray(4 + BUNDLE.length);
    writeFileSync(file, Buffer.concat([genuine.subarray(0, 4), other, rest]), { mode: 0o600 });
    await run({ XDG_CACHE_HOME: home });
    expect(
      readFileSync(file)
        .subarray(4, 4 + BUNDLE.length)
        .equals(BUNDLE),
    ).toBe(true);
  });

  it('that V8 rejects (damaged) costs nothing, says nothing, and is made again', async () => {
    const { home, file } = await firstCache();
    writeFileSync(file, cacheBytes(BUNDLE, Buffer.from('not a code cache')), { mode: 0o600 });
    await run({ XDG_CACHE_HOME: home });
    const made = readFileSync(file);
    expect(made.subarray(4, 4 + BUNDLE.length).equals(BUNDLE)).toBe(true);
    expect(made.length).toBeGreaterThan(4 + BUNDLE.length + 1024);
  });

  it('costs nothing and says nothing when the folder cannot be made', async () => {
    await run({ XDG_CACHE_HOME: '/dev/null/cache' });
  });
});
