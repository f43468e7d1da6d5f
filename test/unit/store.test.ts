import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ExitCode, KashError, usageError } from '../../src/errors.js';
import type { StoreData } from '../../src/store/records.js';
import { CredentialStore } from '../../src/store/store.js';
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
  const data: StoreData = { version: 1, profiles: {} };
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
    expect(store.read()).toEqual({ version: 1, profiles: {} });
    expect(existsSync(dir)).toBe(false);

    mkdirSync(dir, { mode: 0o700 });
    expect(openStore().read()).toEqual({ version: 1, profiles: {} });
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
    expect(returned.profiles.default?.credentials?.apiKey).toBe('k"ey\\with\u00e9\u{1f511}');
    expect(returned).toEqual({ version: 1, profiles: { default: expect.any(Object) } });
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
    expect(store.read().profiles['shop.prod.eu']?.credentials?.apiKey).toBe('key-shop.prod.eu');
    expect(store.read().profiles.shop?.credentials?.apiKey).toBe('key-shop');
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

  // conf writes with a plain fs.writeFileSync (truncate, then write) whenever SNAP is set,
  // which it is for every process started by Ubuntu's node snap.
  // conf writes in place, not atomically, when SNAP is set.
  it('stays atomic when run from a Snap (SNAP set in the environment)', async () => {
    vi.stubEnv('SNAP', '/snap/node/current');
    const store = openStore();
    await save(store, 'default', 'first');
    const before = statSync(store.file).ino;
    await save(store, 'default', 'second');
    expect(store.read().profiles.default?.credentials?.apiKey).toBe('second');
    expect(statSync(store.file).ino).not.toBe(before);
  });
});

describe('permissions', () => {
  it('tightens a looser existing folder (0755) and file (0644) on read, with warnings', () => {
    const file = seed(storeWith('default'));
    chmodSync(dir, 0o755);
    chmodSync(file, 0o644);
    expect(openStore().read().profiles.default?.credentials?.apiKey).toBe('key-default');
    expect(modeOf(dir)).toBe(0o700);
    expect(modeOf(file)).toBe(0o600);
    expect(warnings).toHaveLength(2);
    expect(warnings.find((w) => w.includes(file))).toMatch(/0644.*0600/);
    expect(warnings.find((w) => w.includes(dir) && !w.includes(file))).toMatch(/0755.*0700/);
  });

  it('tightens them on update too, and the saved file is 0600', async () => {
    const file = seed(storeWith('default'));
    chmodSync(dir, 0o775);
    chmodSync(file, 0o666);
    await save(openStore(), 'work');
    expect(modeOf(dir)).toBe(0o700);
    expect(modeOf(file)).toBe(0o600);
    expect(warnings.some((w) => w.includes(file) && w.includes('0666'))).toBe(true);
    expect(warnings.some((w) => w.includes(dir) && w.includes('0775'))).toBe(true);
    expect(Object.keys(openStore().read().profiles).sort()).toEqual(['default', 'work']);
  });

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
    'another version': JSON.stringify({ version: 2, profiles: {} }),
    'a profile with malformed credentials': JSON.stringify({
      version: 1,
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

    it('is set aside (renamed, same bytes) with a warning by an update with setAsideCorrupt', async () => {
      const file = seed(content);
      const before = bytesOf(file);
      const store = openStore();
      const saved = await save(store, 'default', 'fresh-key', { setAsideCorrupt: true });

      const aside = readdirSync(dir).filter((name) => name.startsWith(STORE_CORRUPT_PREFIX));
      expect(aside).toHaveLength(1);
      const asidePath = join(dir, aside[0]!);
      expect(bytesOf(asidePath).equals(before)).toBe(true);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(asidePath);

      expect(saved).toEqual({
        version: 1,
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
    expect(store.read().profiles.default?.credentials?.apiKey).toBe('key-default');
    const error = await expectStoreFailure(() => save(store, 'work'), file);
    expect(error.cause).toMatchObject({ code: 'ENAMETOOLONG', path: expect.stringContaining(lockOf(store)) });
    expect(bytesOf(file).equals(before)).toBe(true);
  });

  // Here the lock (claimed as credentials.json.lock.<pid>) fits but conf's temporary file
  // (credentials.json.tmp-<16 chars>) does not.
  it('unwritable (the new file cannot be written): exit 6 with the path, the store unchanged, the lock released', async () => {
    const at = folderOfLength(base, 4095 - `credentials.json.lock.${process.pid}`.length - 1);
    const file = seed(storeWith('default'), at);
    const before = bytesOf(file);
    const store = openStore(at);
    const error = await expectStoreFailure(() => save(store, 'work'), file);
    expect(error.message).toMatch(/could not save/);
    expect(error.cause).toMatchObject({ code: 'ENAMETOOLONG', path: expect.stringContaining(`${file}.tmp-`) });
    expect(bytesOf(file).equals(before)).toBe(true);
    expect(existsSync(lockOf(store))).toBe(false);
    expect(readdirSync(at)).toEqual(['credentials.json']);
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
    expect(openStore().read().profiles.default?.credentials?.apiKey).toBe('key-default');
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

function startWorker(args: string[]): ChildProcess {
  const child = spawn(process.execPath, [worker, ...args], {
    env: { ...process.env, KASH_STORE_WORKER: '1' },
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

describe('the lock', () => {
  it('takes over a lock left by a dead process', async () => {
    const store = openStore();
    seed(storeWith('default'));
    writeFileSync(lockOf(store), String(await deadPid()));
    const started = Date.now();
    await save(store, 'work');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(Object.keys(store.read().profiles).sort()).toEqual(['default', 'work']);
    expect(leftovers()).toEqual([]);
  });

  it('takes over a dead lock even when a taker died mid-takeover, leaving its guard', async () => {
    const store = openStore();
    seed(storeWith('default'));
    const dead = String(await deadPid());
    writeFileSync(lockOf(store), dead);
    writeFileSync(`${lockOf(store)}.takeover`, dead);
    const started = Date.now();
    await save(store, 'work');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(Object.keys(store.read().profiles).sort()).toEqual(['default', 'work']);
    expect(leftovers()).toEqual([]);
  });

  it('while saving, removes what kash processes killed mid-save left: temporary copies of the store, dead claims', async () => {
    const store = openStore();
    seed(storeWith('default'));
    const dead = await deadPid();
    writeFileSync(join(dir, 'credentials.json.tmp-0123456789abcdef'), '{"version":1,"profiles":{"old":{}}}', {
      mode: 0o600,
    });
    writeFileSync(`${lockOf(store)}.${dead}`, String(dead), { mode: 0o600 });
    // A claim whose owner lives is someone's attempt in progress: it stays.
    writeFileSync(`${lockOf(store)}.${process.ppid}`, String(process.ppid), { mode: 0o600 });
    await save(store, 'work');
    expect(leftovers()).toEqual([`credentials.json.lock.${process.ppid}`]);
    rmSync(`${lockOf(store)}.${process.ppid}`);
  });

  it('takes over an empty lock older than 5 s', async () => {
    const store = openStore();
    seed(storeWith('default'));
    writeFileSync(lockOf(store), '');
    const old = (Date.now() - 10_000) / 1000;
    utimesSync(lockOf(store), old, old);
    const started = Date.now();
    await save(store, 'work');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(Object.keys(store.read().profiles).sort()).toEqual(['default', 'work']);
    expect(leftovers()).toEqual([]);
  });

  it('does not take a fresh empty lock (its owner may not have written its pid yet)', async () => {
    const store = openStore();
    seed(storeWith('default'));
    writeFileSync(lockOf(store), '');
    const { settled, after } = saveWithin(store, 'work', 400);
    expect(await after).toBe('still waiting');
    expect(store.read().profiles.work).toBeUndefined();
    rmSync(lockOf(store));
    expect(await settled).toBe('saved');
    expect(store.read().profiles.work).toBeDefined();
  });

  it('makes a second updater wait while a live process holds it', async () => {
    const store = openStore();
    seed(storeWith('default'));
    const holder = startWorker(['hold', dir]);
    const exited = once(holder, 'exit');
    await nextLine(holder, 'locked');
    expect(readFileSync(lockOf(store), 'utf8')).toBe(String(holder.pid));

    const { settled, after } = saveWithin(store, 'work', 500);
    expect(await after).toBe('still waiting');
    expect(store.read().profiles.work).toBeUndefined();

    const released = nextLine(holder, 'released');
    holder.stdin?.write('go\n');
    await released;
    expect(await settled).toBe('saved');
    expect(Object.keys(store.read().profiles).sort()).toEqual(['default', 'work']);
    expect(await exited).toEqual([0, null]);
    expect(existsSync(lockOf(store))).toBe(false);
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

  // In a container with a persistent config volume, kash often runs with the same pid every
  // time (pid 1, or a small one). A lock left by a killed run then names the new run's own
  // pid, which alive() reports as alive: the new run waits 15 s and fails "busy".
  // A lock naming our own pid that this process does not hold is stale (pid reuse in containers).
  it('takes over a stale lock that names this very process (pid reuse)', async () => {
    const store = openStore();
    seed(storeWith('default'));
    writeFileSync(lockOf(store), String(process.pid));
    const { settled, after } = saveWithin(store, 'work', 1_500);
    try {
      expect(await after).toBe('saved');
    } finally {
      rmSync(lockOf(store), { force: true });
      await settled;
    }
  });
});
