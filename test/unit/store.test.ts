import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ExitCode, KashError, usageError } from '../../src/errors.js';
import type { StoreData } from '../../src/store/records.js';
import { CredentialStore, peekProfileNames } from '../../src/store/store.js';
import { type BuiltWorker, buildStoreWorker } from '../support/build-store-worker.js';
import { credentialsFor } from '../support/store-worker.js';

const STORE_CORRUPT_PREFIX = 'credentials.json.corrupt-';

let base: string;
let dir: string;
let warnings: string[];

beforeEach(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'kash-store-')));
  dir = join(base, 'kash');
  warnings = [];
});

afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(base, { recursive: true, force: true });
});

const openStore = (at = dir) => new CredentialStore(at, (message) => warnings.push(message));
const modeOf = (path: string) => statSync(path).mode & 0o777;
const bytesOf = (path: string) => readFileSync(path);

function storeWith(...profiles: string[]): StoreData {
  const data: StoreData = { version: 2, profiles: {} };
  for (const name of profiles) data.profiles[name] = { credentials: credentialsFor(`key-${name}`, `shop-${name}`) };
  return data;
}

/** Writes a store file by hand (0600 in a 0700 folder unless told otherwise). */
function seed(content: string | StoreData, at = dir): string {
  mkdirSync(at, { recursive: true, mode: 0o700 });
  const file = join(at, 'credentials.json');
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, '\t'), { mode: 0o600 });
  return file;
}

const save = (
  store: CredentialStore,
  profile: string,
  apiKey = `key-${profile}`,
  options: { setAsideCorrupt?: boolean } = {},
) =>
  store.update((data) => {
    data.profiles[profile] = { ...data.profiles[profile], credentials: credentialsFor(apiKey, `shop-${profile}`) };
  }, options);

/** The KashError a call failed with; fails the test when it did not fail with one. */
async function failure(run: () => unknown): Promise<KashError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(KashError);
    return error as KashError;
  }
  throw new Error('expected the call to fail');
}

async function expectStoreFailure(run: () => unknown, file: string): Promise<KashError> {
  const error = await failure(run);
  expect(error.exitCode).toBe(ExitCode.store);
  expect(error.exitCode).toBe(6);
  expect(error.message).toContain(file);
  return error;
}

/** A folder path of exactly `length` characters under `from` (components well under NAME_MAX). */
function folderOfLength(from: string, length: number): string {
  let path = from;
  while (length - path.length > 250) path += `/${'d'.repeat(199)}`;
  path += `/${'e'.repeat(length - path.length - 1)}`;
  expect(path.length).toBe(length);
  return path;
}

const lockOf = (store: CredentialStore) => `${store.file}.lock`;
const leftovers = (at = dir) => readdirSync(at).filter((name) => name !== 'credentials.json');

describe('CredentialStore basics', () => {
  it('reads a missing store as empty and creates nothing', () => {
    const store = openStore(join(dir, 'nested'));
    expect(store.read()).toEqual({ version: 2, profiles: {} });
    expect(existsSync(dir)).toBe(false);

    mkdirSync(dir, { mode: 0o700 });
    expect(openStore().read()).toEqual({ version: 2, profiles: {} });
    expect(readdirSync(dir)).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('creates the folder 0700 and the file 0600 on the first update, and leaves no lock', async () => {
    const nested = join(dir, 'deeper', 'kash');
    const store = openStore(nested);
    await save(store, 'default');
    expect(store.file).toBe(join(nested, 'credentials.json'));
    expect(statSync(nested).isDirectory()).toBe(true);
    expect(modeOf(nested)).toBe(0o700);
    expect(modeOf(store.file)).toBe(0o600);
    expect(readdirSync(nested)).toEqual(['credentials.json']);
    expect(warnings).toEqual([]);
  });

  it('writes JSON that round-trips', async () => {
    const store = openStore();
    const returned = await store.update((data) => {
      data.profiles.default = {
        credentials: {
          ...credentialsFor('k"ey\\with\u00e9\u{1f511}', '42'),
          shopTitle: 'Caf\u00e9 "L\'\u00e9t\u00e9"\n',
        },
        pendingCode: {
          email: 'a@b.c',
          accountId: null,
          shopTitle: null,
          baseUrl: 'https://kash.click',
          requestedAt: '2024-05-05T10:00:00.000Z',
        },
      };
    });
    const onDisk: unknown = JSON.parse(readFileSync(store.file, 'utf8'));
    expect(onDisk).toEqual(returned);
    expect(store.read()).toEqual(returned);
    expect(openStore().read()).toEqual(returned);
    expect(returned.profiles.default?.credentials).toMatchObject({ apiKey: 'k"ey\\with\u00e9\u{1f511}' });
    expect(returned).toEqual({ version: 2, profiles: { default: expect.any(Object) } });
  });

  it('keeps profiles independent of each other', async () => {
    const store = openStore();
    await save(store, 'default', 'key-one');
    await save(store, 'work', 'key-two');
    await save(store, 'default', 'key-three');
    const data = openStore().read();
    expect(Object.keys(data.profiles).sort()).toEqual(['default', 'work']);
    expect(data.profiles.default?.credentials).toEqual(credentialsFor('key-three', 'shop-default'));
    expect(data.profiles.work?.credentials).toEqual(credentialsFor('key-two', 'shop-work'));

    await store.update((d) => {
      delete d.profiles.default;
    });
    expect(openStore().read().profiles).toEqual({ work: { credentials: credentialsFor('key-two', 'shop-work') } });
  });

  it('keeps profile names with dots whole (no dot-notation splitting)', async () => {
    const store = openStore();
    await save(store, 'shop.prod.eu');
    await save(store, 'shop');
    await save(store, '.a..b.');
    const onDisk = JSON.parse(readFileSync(store.file, 'utf8')) as { profiles: Record<string, unknown> };
    expect(Object.keys(onDisk.profiles).sort()).toEqual(['.a..b.', 'shop', 'shop.prod.eu']);
    expect(store.read().profiles['shop.prod.eu']?.credentials).toMatchObject({ apiKey: 'key-shop.prod.eu' });
    expect(store.read().profiles.shop?.credentials).toMatchObject({ apiKey: 'key-shop' });
  });

  // CLI.md allows any of letters, digits, ".", "_", "-": "__proto__" is a valid profile name.
  // On a plain object, data.profiles["__proto__"] = … would set its prototype, not a key.
  it('saves a profile named __proto__ like any other', async () => {
    const store = openStore();
    await save(store, 'default');
    await save(store, '__proto__');
    const onDisk = JSON.parse(readFileSync(store.file, 'utf8')) as { profiles: Record<string, unknown> };
    expect(Object.keys(onDisk.profiles).sort()).toEqual(['__proto__', 'default']);
    expect(Object.hasOwn(store.read().profiles, '__proto__')).toBe(true);
  });

  it('replaces the file by rename (a new inode), never rewriting it in place', async () => {
    const store = openStore();
    await save(store, 'default', 'first');
    const before = statSync(store.file).ino;
    await save(store, 'default', 'second');
    expect(statSync(store.file).ino).not.toBe(before);
    expect(leftovers()).toEqual([]);
  });
});

describe('format versions', () => {
  it('reads a version-1 store as version 2 (keys in the file) and rewrites it so on the next save', async () => {
    const { storage: _, ...v1credentials } = credentialsFor('key-old', 'shop-old');
    const file = seed(JSON.stringify({ version: 1, profiles: { old: { credentials: v1credentials } } }));
    const store = openStore();
    expect(store.read().profiles.old?.credentials).toEqual(credentialsFor('key-old', 'shop-old'));
    await save(store, 'new');
    const onDisk = JSON.parse(readFileSync(file, 'utf8')) as StoreData;
    expect(onDisk.version).toBe(2);
    expect(onDisk.profiles.old?.credentials).toEqual(credentialsFor('key-old', 'shop-old'));
  });

  it('keeps the default profile and keyring profiles of format 2', async () => {
    const { apiKey: _, ...facts } = credentialsFor('unused', 'shop-k');
    const data = {
      version: 2,
      default: 'k',
      profiles: { k: { credentials: { ...facts, storage: 'keyring', keyringId: 'id-1' } } },
    };
    seed(JSON.stringify(data));
    expect(openStore().read()).toEqual(data);
    await save(openStore(), 'other');
    expect(openStore().read()).toMatchObject({ default: 'k', profiles: { k: data.profiles.k } });
  });

  it('a store written by a newer kash is exit 6 saying to upgrade, never set aside nor overwritten', async () => {
    const content = JSON.stringify({ version: 3, profiles: { future: { whatever: true } } });
    const file = seed(content);
    const store = openStore();
    for (const run of [
      () => store.read(),
      () => save(store, 'x', 'k', { setAsideCorrupt: true }),
      () => store.proveSaveable(),
    ]) {
      const error = await expectStoreFailure(run, file);
      expect(error.message).toMatch(/written by a newer kash/);
      expect(error.hint).toMatch(/Upgrade kash/);
    }
    expect(bytesOf(file).toString('utf8')).toBe(content);
    expect(readdirSync(dir)).toEqual(['credentials.json']);
  });
});

describe('permissions', () => {
  it('tightens a looser store file (0644) on read, with a warning, and never the folder', () => {
    const file = seed(storeWith('default'));
    chmodSync(dir, 0o755);
    chmodSync(file, 0o644);
    expect(openStore().read().profiles.default?.credentials).toMatchObject({ apiKey: 'key-default' });
    expect(modeOf(dir)).toBe(0o755);
    expect(modeOf(file)).toBe(0o600);
    expect(warnings).toEqual([expect.stringMatching(/0644.*0600/)]);
  });

  it('tightens a folder that holds only kash files when saving, and the saved file is 0600', async () => {
    const file = seed(storeWith('default'));
    writeFileSync(`${file}.corrupt-2024-05-01T10-00-00-000Z`, 'old bytes');
    chmodSync(dir, 0o775);
    chmodSync(file, 0o666);
    await save(openStore(), 'work');
    expect(modeOf(dir)).toBe(0o700);
    expect(modeOf(file)).toBe(0o600);
    expect(warnings.some((w) => w.includes(file) && w.includes('0666'))).toBe(true);
    expect(warnings.some((w) => w.includes(dir) && w.includes('0775'))).toBe(true);
    expect(Object.keys(openStore().read().profiles).sort()).toEqual(['default', 'work']);
  });

  it('never changes a folder that holds other files: one others can only read is saved into as it is', async () => {
    seed(storeWith('default'));
    writeFileSync(join(dir, 'README.md'), 'a project file');
    chmodSync(dir, 0o755);
    await save(openStore(), 'work');
    expect(modeOf(dir)).toBe(0o755);
    expect(warnings).toEqual([]);
  });

  it.each([0o775, 0o777, 0o1777])(
    'refuses to save into a folder others can write to (mode %o), and warns on read',
    async (mode) => {
      const file = seed(storeWith('default'));
      writeFileSync(join(dir, 'someone-else'), 'x');
      chmodSync(dir, mode);
      const before = bytesOf(file);
      const error = await expectStoreFailure(() => save(openStore(), 'work'), dir);
      expect(error.message).toMatch(/refusing to save/);
      expect(error.hint).toMatch(/--config-dir/);
      await expectStoreFailure(() => openStore().proveSaveable(), dir);
      expect(statSync(dir).mode & 0o7777).toBe(mode);
      expect(bytesOf(file).equals(before)).toBe(true);
      expect(readdirSync(dir).sort()).toEqual(['credentials.json', 'someone-else']);

      warnings = [];
      const store = openStore();
      expect(store.read().profiles.default).toBeDefined();
      store.read();
      expect(warnings).toEqual([expect.stringMatching(/can be written by other users.*could replace the store/)]);
      expect(statSync(dir).mode & 0o7777).toBe(mode);
    },
  );

  it('says nothing about a store that is already private (or stricter)', async () => {
    const file = seed(storeWith('default'));
    chmodSync(file, 0o400);
    openStore().read();
    await save(openStore(), 'work');
    expect(modeOf(dir)).toBe(0o700);
    expect(warnings).toEqual([]);
  });
});

describe('a corrupt store', () => {
  const corruptions = {
    'invalid JSON': '{"version":1,"profiles":{"default":',
    'an empty file': '',
    'JSON of the wrong shape': '[1,2,3]',
    'no known version': JSON.stringify({ version: 0, profiles: {} }),
    'a version that is not a number': JSON.stringify({ version: '2', profiles: {} }),
    'a key stored nowhere': JSON.stringify({
      version: 2,
      profiles: { p: { credentials: { ...credentialsFor('k', 's'), storage: 'cloud' } } },
    }),
    'a profile with malformed credentials': JSON.stringify({
      version: 2,
      profiles: { ok: { credentials: credentialsFor('k', 's') }, bad: { credentials: { apiKey: 'k', shopId: 42 } } },
    }),
  };

  describe.each(Object.entries(corruptions))('(%s)', (_name, content) => {
    it('is exit 6 naming the file on read', async () => {
      const file = seed(content);
      const error = await expectStoreFailure(() => openStore().read(), file);
      expect(error.message).toMatch(/corrupt/);
      expect(bytesOf(file).toString('utf8')).toBe(content);
    });

    it('is exit 6 on update without setAsideCorrupt, leaving the file byte for byte', async () => {
      const file = seed(content);
      const before = bytesOf(file);
      const store = openStore();
      await expectStoreFailure(() => save(store, 'default'), file);
      expect(bytesOf(file).equals(before)).toBe(true);
      expect(leftovers()).toEqual([]);
      expect(existsSync(lockOf(store))).toBe(false);
    });

    it('is set aside (a real copy of its bytes, 0600) with a warning by an update with setAsideCorrupt', async () => {
      const file = seed(content);
      const before = bytesOf(file);
      const store = openStore();
      const saved = await save(store, 'default', 'fresh-key', { setAsideCorrupt: true });

      const aside = readdirSync(dir).filter((name) => name.startsWith(STORE_CORRUPT_PREFIX));
      expect(aside).toHaveLength(1);
      const asidePath = join(dir, aside[0]!);
      expect(bytesOf(asidePath).equals(before)).toBe(true);
      // A copy, not a second name of the old file: the old inode is gone with the save.
      expect(statSync(asidePath).nlink).toBe(1);
      expect(modeOf(asidePath)).toBe(0o600);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(asidePath);

      expect(saved).toEqual({
        version: 2,
        profiles: { default: { credentials: credentialsFor('fresh-key', 'shop-default') } },
      });
      expect(openStore().read()).toEqual(saved);
      expect(modeOf(file)).toBe(0o600);
      expect(existsSync(lockOf(store))).toBe(false);
    });
  });

  // A failed login leaves the corrupt file where it was: whoami must still say "corrupt",
  // not "not logged in", and no warning may claim it was saved afresh.
  it('stays where it was when the update that would set it aside fails', async () => {
    const file = seed('not json');
    const store = openStore();
    await expect(
      store.update(
        () => {
          throw new Error('boom');
        },
        { setAsideCorrupt: true },
      ),
    ).rejects.toThrow();
    expect(existsSync(file)).toBe(true);
    expect(bytesOf(file).toString('utf8')).toBe('not json');
    await expectStoreFailure(() => openStore().read(), file);
  });
});

describe('an unusable store', () => {
  it('below a regular file (ENOTDIR): exit 6 with the path, the file untouched', async () => {
    const blocker = join(base, 'blocker');
    writeFileSync(blocker, 'not a folder\n', { mode: 0o644 });
    const store = openStore(join(blocker, 'kash'));
    await expectStoreFailure(() => save(store, 'default'), store.file);
    await expectStoreFailure(() => store.read(), store.file);
    expect(readFileSync(blocker, 'utf8')).toBe('not a folder\n');
    expect(modeOf(blocker)).toBe(0o644);
  });

  it('when the config folder is a regular file: exit 6 on update, the file untouched', async () => {
    writeFileSync(dir, 'a file where the folder should be\n', { mode: 0o644 });
    const store = openStore();
    await expectStoreFailure(() => save(store, 'default'), store.file);
    expect(readFileSync(dir, 'utf8')).toBe('a file where the folder should be\n');
    expect(modeOf(dir)).toBe(0o644);
  });

  // A regular file at the folder path must not be "tightened" (made executable) first.
  it('when the config folder is a regular file: read is exit 6 and changes nothing', async () => {
    writeFileSync(dir, 'a file where the folder should be\n', { mode: 0o644 });
    const store = openStore();
    await expectStoreFailure(() => store.read(), store.file);
    expect(readFileSync(dir, 'utf8')).toBe('a file where the folder should be\n');
    expect(modeOf(dir)).toBe(0o644);
    expect(warnings).toEqual([]);
  });

  it('unreadable (the store file is a folder): exit 6 with the path, on read and update', async () => {
    mkdirSync(join(dir, 'credentials.json', 'inside'), { recursive: true, mode: 0o700 });
    const store = openStore();
    await expectStoreFailure(() => store.read(), store.file);
    await expectStoreFailure(() => save(store, 'default', 'k', { setAsideCorrupt: true }), store.file);
    expect(readdirSync(store.file)).toEqual(['inside']);
    expect(existsSync(lockOf(store))).toBe(false);
  });

  // Root ignores permission bits, so "cannot write" is made with path lengths: Linux refuses
  // any path of 4096 characters or more (ENAMETOOLONG). The folder length is chosen so that
  // credentials.json can be read but the lock (credentials.json.lock, 5 more) cannot be made.
  it('unwritable (the lock cannot be created): exit 6 with the path, the store unchanged', async () => {
    const at = folderOfLength(base, 4095 - 'credentials.json'.length - 2);
    const file = seed(storeWith('default'), at);
    const before = bytesOf(file);
    const store = openStore(at);
    expect(store.read().profiles.default?.credentials).toMatchObject({ apiKey: 'key-default' });
    const error = await expectStoreFailure(() => save(store, 'work'), file);
    expect(error.cause).toMatchObject({ code: 'ENAMETOOLONG', path: expect.stringContaining(lockOf(store)) });
    expect(bytesOf(file).equals(before)).toBe(true);
  });
});

describe('what stands where the store should be', () => {
  const target = () => join(base, 'target');
  const plants: Array<[string, RegExp, () => void]> = [
    ['a link to a store', /symbolic link/, () => symlinkSync(target(), join(dir, 'credentials.json'))],
    ['a link to /dev/zero', /symbolic link/, () => symlinkSync('/dev/zero', join(dir, 'credentials.json'))],
    ['a FIFO', /FIFO/, () => execFileSync('mkfifo', [join(dir, 'credentials.json')])],
    ['a folder', /folder/, () => mkdirSync(join(dir, 'credentials.json'))],
    [
      'a store over 1 MiB',
      /over 1024 KiB/,
      () => writeFileSync(join(dir, 'credentials.json'), ' '.repeat(3 * 1024 * 1024), { mode: 0o600 }),
    ],
  ];

  it.each(plants)(
    '%s: exit 6 naming it on read, save, login and proof, at once; never followed, read, chmodded or replaced',
    async (_what, says, plant) => {
      mkdirSync(dir, { mode: 0o700 });
      writeFileSync(target(), JSON.stringify(storeWith('victim')), { mode: 0o644 });
      plant();
      const store = openStore();
      const started = Date.now();
      for (const run of [
        () => store.read(),
        () => save(store, 'work'),
        () => save(store, 'work', 'k', { setAsideCorrupt: true }),
        () => store.proveSaveable(),
      ]) {
        const error = await expectStoreFailure(run, store.file);
        expect(error.message).toMatch(says);
      }
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(readFileSync(target(), 'utf8')).toBe(JSON.stringify(storeWith('victim')));
      expect(modeOf(target())).toBe(0o644);
      expect(readdirSync(dir)).toEqual(['credentials.json']);
      expect(peekProfileNames(dir)).toEqual([]);
    },
  );

  it('a folder reached through a link is fine: only the store and its lock must be files', async () => {
    const real = join(base, 'real');
    mkdirSync(real, { mode: 0o700 });
    symlinkSync(real, dir);
    await save(openStore(), 'work');
    expect(readdirSync(real)).toEqual(['credentials.json']);
    expect(Object.keys(openStore().read().profiles)).toEqual(['work']);
    expect(peekProfileNames(dir)).toEqual(['work']);
  });

  it('the proof of a save writes a file the size of the store in its folder, and leaves nothing', async () => {
    const file = seed(storeWith('default', 'work'));
    const before = bytesOf(file);
    await openStore().proveSaveable();
    expect(readdirSync(dir)).toEqual(['credentials.json']);
    expect(bytesOf(file).equals(before)).toBe(true);
    await openStore(join(dir, 'new')).proveSaveable();
    expect(readdirSync(join(dir, 'new'))).toEqual([]);
    expect(modeOf(join(dir, 'new'))).toBe(0o700);
  });
});

describe('a failing change', () => {
  it('leaves the store byte for byte, releases the lock, and passes an internal error through (not as exit 6)', async () => {
    const file = seed(storeWith('default', 'work'));
    const before = bytesOf(file);
    const store = openStore();
    const boom = new Error('boom');
    await expect(
      store.update((data) => {
        data.profiles.default = { credentials: credentialsFor('half-done', 'x') };
        delete data.profiles.work;
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(bytesOf(file).equals(before)).toBe(true);
    expect(existsSync(lockOf(store))).toBe(false);

    await save(store, 'third');
    expect(Object.keys(openStore().read().profiles).sort()).toEqual(['default', 'third', 'work']);
    expect(openStore().read().profiles.default?.credentials).toMatchObject({ apiKey: 'key-default' });
  });

  it('passes a KashError from the change through as it is', async () => {
    const file = seed(storeWith('default'));
    const before = bytesOf(file);
    const store = openStore();
    const refused = usageError('nope');
    await expect(
      store.update(() => {
        throw refused;
      }),
    ).rejects.toBe(refused);
    expect(bytesOf(file).equals(before)).toBe(true);
    expect(existsSync(lockOf(store))).toBe(false);
    await save(store, 'work');
    expect(Object.keys(store.read().profiles).sort()).toEqual(['default', 'work']);
  });
});

// ---- The lock, with real processes ----

let built: BuiltWorker;
let worker: string;

beforeAll(async () => {
  built = await buildStoreWorker();
  worker = built.path;
});

afterAll(() => {
  built.remove();
});

const children = new Set<ChildProcess>();
afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
});

function startWorker(args: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, [worker, ...args], {
    env: { ...process.env, KASH_STORE_WORKER: '1', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function nextLine(child: ChildProcess, wanted: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.split('\n').includes(wanted)) {
        child.stdout?.off('data', onData);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before "${wanted}": ${stderr}`)));
  });
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await once(child, 'exit');
  const pid = child.pid!;
  expect(() => process.kill(pid, 0)).toThrow();
  return pid;
}

type Outcome = 'saved' | 'still waiting' | Error;

/** Starts an update and reports how it stands after `ms` (the update keeps going). */
function saveWithin(store: CredentialStore, profile: string, ms: number) {
  const settled: Promise<Outcome> = save(store, profile).then(
    () => 'saved' as const,
    (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
  );
  const after = Promise.race([settled, sleep(ms).then(() => 'still waiting' as const)]);
  return { settled, after };
}

// Lock owners as kash writes them, to plant locks and claims of other processes.
const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
const pidNamespace = readlinkSync('/proc/self/ns/pid');
const startOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
};
const ownerJson = (pid: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    token: 'f'.repeat(24),
    pid,
    boot: bootId,
    pidns: pidNamespace,
    start: '1',
    host: hostname(),
    ...extra,
  });
/** Short timings for the tests that judge staleness; every party to one test uses them. */
const FAST = { refreshMs: 50, staleMs: 400, waitMs: 5_000 };
const fastStore = () => new CredentialStore(dir, (message) => warnings.push(message), FAST);

describe('the lock', () => {
  it('takes over at once a lock whose owner died on this machine, in this PID namespace', async () => {
    const store = openStore();
    seed(storeWith('default'));
    writeFileSync(lockOf(store), ownerJson(await deadPid()));
    const started = Date.now();
    await save(store, 'work');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(Object.keys(store.read().profiles).sort()).toEqual(['default', 'work']);
    expect(leftovers()).toEqual([]);
  });

  // The pid of a kash killed long ago now names another process: not the lock's owner.
  it.each([
    ['an unrelated live process', () => process.ppid],
    ['this very process (pid reuse in a container)', () => process.pid],
  ])('takes over at once a lock whose pid is now %s, started at another time', async (_name, pid) => {
    const store = openStore();
    seed(storeWith('default'));
    writeFileSync(lockOf(store), ownerJson(pid()));
    const old = (Date.now() - 3_600_000) / 1000;
    utimesSync(lockOf(store), old, old);
    const started = Date.now();
    await save(store, 'work');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(store.read().profiles.work).toBeDefined();
  });

  it('never judges a lock from another PID namespace, boot or machine by its pid: it waits until it has seen it unchanged', async () => {
    seed(storeWith('default'));
    for (const other of [
      { pidns: 'pid:[1]' },
      { boot: 'another-boot' },
      { boot: undefined, pidns: undefined, start: undefined, host: 'elsewhere' },
    ]) {
      const store = fastStore();
      writeFileSync(lockOf(store), ownerJson(await deadPid(), other));
      const started = performance.now();
      const { settled, after } = saveWithin(store, 'work', FAST.staleMs / 2);
      expect(await after).toBe('still waiting');
      expect(await settled).toBe('saved');
      expect(performance.now() - started).toBeGreaterThanOrEqual(FAST.staleMs);
    }
  });

  it('a lock its live holder keeps refreshing is never taken over, however long it is held', async () => {
    const store = fastStore();
    seed(storeWith('default'));
    const holder = startWorker(['hold', dir], { KASH_TEST_LOCK_TIMINGS: JSON.stringify(FAST) });
    await nextLine(holder, 'locked');
    // The same host name as os.hostname() gives, which kash reads from /proc on Linux.
    expect(JSON.parse(readFileSync(lockOf(store), 'utf8'))).toMatchObject({
      pid: holder.pid,
      boot: bootId,
      host: hostname(),
    });
    const { settled, after } = saveWithin(store, 'work', FAST.staleMs * 3);
    expect(await after).toBe('still waiting');
    const released = nextLine(holder, 'released');
    holder.stdin?.write('go\n');
    await released;
    expect(await settled).toBe('saved');
    expect(existsSync(lockOf(store))).toBe(false);
  });

  it('gives up after waiting its while: exit 6 naming the lock, the store unchanged', async () => {
    const store = new CredentialStore(dir, () => undefined, { ...FAST, waitMs: 300 });
    const file = seed(storeWith('default'));
    const before = bytesOf(file);
    const holder = startWorker(['hold', dir], { KASH_TEST_LOCK_TIMINGS: JSON.stringify(FAST) });
    await nextLine(holder, 'locked');
    const error = await expectStoreFailure(() => save(store, 'work'), file);
    expect(error.message).toMatch(/busy/);
    expect(error.hint).toContain(lockOf(store));
    expect(bytesOf(file).equals(before)).toBe(true);
    holder.stdin?.write('go\n');
  });

  it('takes an unreadable lock (empty, or written by an older kash) only once seen unchanged for its while', async () => {
    for (const content of ['', String(process.pid)]) {
      const store = fastStore();
      seed(storeWith('default'));
      writeFileSync(lockOf(store), content);
      const { settled, after } = saveWithin(store, 'work', FAST.staleMs / 2);
      expect(await after).toBe('still waiting');
      expect(await settled).toBe('saved');
    }
  });

  it('takes over a dead lock even when a taker died mid-takeover, leaving its guard', async () => {
    const store = openStore();
    seed(storeWith('default'));
    writeFileSync(lockOf(store), ownerJson(await deadPid()));
    writeFileSync(`${lockOf(store)}.takeover`, ownerJson(await deadPid()));
    const started = Date.now();
    await save(store, 'work');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(Object.keys(store.read().profiles).sort()).toEqual(['default', 'work']);
    expect(leftovers()).toEqual([]);
  });

  it('takes over the lock of a holder killed with SIGKILL', async () => {
    const store = openStore();
    seed(storeWith('default'));
    const holder = startWorker(['hold', dir]);
    await nextLine(holder, 'locked');
    const { settled, after } = saveWithin(store, 'work', 300);
    expect(await after).toBe('still waiting');
    const exited = once(holder, 'exit');
    holder.kill('SIGKILL');
    await exited;
    expect(existsSync(lockOf(store))).toBe(true);
    expect(await settled).toBe('saved');
    expect(Object.keys(store.read().profiles).sort()).toEqual(['default', 'work']);
  });

  it('while saving, removes what killed saves left (temporary and trial copies, dead claims), and never a claim it cannot prove dead', async () => {
    const store = openStore();
    seed(storeWith('default'));
    writeFileSync(join(dir, 'credentials.json.tmp-0123456789ab'), '{"version":2,"profiles":{"old":{}}}', {
      mode: 0o600,
    });
    writeFileSync(join(dir, 'credentials.json.trial-0123456789ab'), '    ', { mode: 0o600 });
    const claim = (token: string) => `${lockOf(store)}.${token}`;
    writeFileSync(claim('a'.repeat(24)), ownerJson(await deadPid(), { token: 'a'.repeat(24) }));
    // Someone's attempt in progress, here or in another container: it stays.
    writeFileSync(
      claim('b'.repeat(24)),
      ownerJson(process.ppid, { token: 'b'.repeat(24), start: startOf(process.ppid) }),
    );
    writeFileSync(claim('c'.repeat(24)), ownerJson(await deadPid(), { token: 'c'.repeat(24), pidns: 'pid:[1]' }));
    await save(store, 'work');
    expect(leftovers().sort()).toEqual([
      `credentials.json.lock.${'b'.repeat(24)}`,
      `credentials.json.lock.${'c'.repeat(24)}`,
    ]);
  });

  it.each([
    ['a FIFO', (path: string) => execFileSync('mkfifo', [path])],
    ['a symbolic link', (path: string) => symlinkSync(join(base, 'elsewhere'), path)],
    ['a folder', (path: string) => mkdirSync(path)],
  ])('%s in place of the lock: exit 6 at once naming it, never followed or waited on', async (what, plant) => {
    const store = openStore();
    const file = seed(storeWith('default'));
    writeFileSync(join(base, 'elsewhere'), 'not a lock');
    plant(lockOf(store));
    const started = Date.now();
    const error = await expectStoreFailure(() => save(store, 'work'), lockOf(store));
    expect(error.message).toContain(what);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(readFileSync(join(base, 'elsewhere'), 'utf8')).toBe('not a lock');
    expect(store.read().profiles.work).toBeUndefined();
    expect(bytesOf(file).length).toBeGreaterThan(0);
  });

  it('publishes nothing when the lock was taken over during the save (the token is checked just before the rename)', async () => {
    const store = openStore();
    const file = seed(storeWith('default'));
    const before = bytesOf(file);
    const error = await expectStoreFailure(
      () =>
        store.update((data) => {
          data.profiles.work = { credentials: credentialsFor('k', 's') };
          writeFileSync(
            lockOf(store),
            ownerJson(process.ppid, { token: 'd'.repeat(24), start: startOf(process.ppid) }),
          );
        }),
      file,
    );
    expect(error.message).toMatch(/took over the lock/);
    expect(bytesOf(file).equals(before)).toBe(true);
    // The other's lock is left to it.
    expect(JSON.parse(readFileSync(lockOf(store), 'utf8'))).toMatchObject({ token: 'd'.repeat(24) });
    rmSync(lockOf(store));
  });
});
