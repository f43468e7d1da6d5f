// The store on a hostile file system, end to end: the built CLI as real processes on real
// folders, links, FIFOs, device nodes, tmpfs mounts and PID namespaces (no mock of fs).
//
// shared/CLI.md: "Storage" (the store and its lock, newer formats), "Safety rules" (folders
// kash does not own, what stands at the store's name, corrupt stores, the lock across
// containers, the trial save before asking the service) and "Prompting" (an honest Ctrl-C
// once a code was sent).
//
// The tests of the first group run side by side; the ones that load the machine most (two
// PID namespaces starting their logins at once, a lock changing hands as fast as it can) come
// last, one at a time, so that their load cannot push the others past their time bounds. Root-only cases say what they need (test/support/needs.ts): skipped on a
// person's machine without it, failed under CI.
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  closeSync,
  constants,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  readSync,
  type Stats,
  statfsSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, type TestContext, vi } from 'vitest';
import { parseStore, STORE_VERSION, type StoreData } from '../../src/store/records.js';
import { collect, KASH_BIN, type KashRun, registerSecret, runKash, useE2e } from '../support/e2e.js';
import { accounts, type Emulator, otpEmails, type PasswordAccount, shops } from '../support/emulator.js';
import { start as startOnPty } from '../support/pty.js';
import { type Requirement, requires } from '../support/requires.js';
import { hygieneProblem } from '../support/run-kash.js';
import { passwordCredentials, pendingCode, writeStore as writeFixture } from '../support/store-fixture.js';
import { listDir, type SnapshotEntry, storeSnapshot } from '../support/store-snapshot.js';

const STORE = 'credentials.json';
const LOCK = `${STORE}.lock`;
const PASSWORD_LOGIN = '/workers/getAuthTokenWithPassword.php';
const OTP_LOGIN = '/workers/getAuthTokenWithOTP.php';
const { demo, shop2 } = accounts;
const ONE = otpEmails.one.email; // one shop: Solo Shop
/** What "at once" means here: a FIFO or /dev/zero read by mistake hangs for ever instead. */
const AT_ONCE_MS = 3_000;

vi.setConfig({ testTimeout: 60_000 });

// Every test starts its own emulator, so that the requests it counts are its own.
const e2e = useE2e({ emulator: false });

/**
 * Registers a step to undo at the end of the running test (a mount, a stand-in process, a
 * held FIFO): the test context's own onTestFinished, since these tests run side by side.
 */
type Later = (step: () => void) => void;

function undoer(onTestFinished: TestContext['onTestFinished']): Later {
  return (step) =>
    onTestFinished(() => {
      try {
        step();
      } catch {
        // Best effort: the other steps still run.
      }
    });
}

// ---------------------------------------------------------------------------------------
// Stores, folders and runs

/** The text of a valid store holding a password login of each account, by profile. */
function storeText(profiles: Record<string, PasswordAccount>, baseUrl: string): string {
  const data: StoreData = {
    version: STORE_VERSION,
    profiles: Object.fromEntries(
      Object.entries(profiles).map(([name, account]) => [
        name,
        { credentials: passwordCredentials(account, baseUrl, '2026-01-02T03:04:05.000Z') },
      ]),
    ),
  };
  return `${JSON.stringify(data, null, '\t')}\n`;
}

function writeStore(dir: string, text: string | Buffer, mode = 0o600): void {
  writeFileSync(join(dir, STORE), text, { mode });
  chmodSync(join(dir, STORE), mode);
}

/** The store file as it is on disk, checked to be a valid store. */
function storeOnDisk(dir: string): StoreData {
  const parsed = parseStore(JSON.parse(readFileSync(join(dir, STORE), 'utf8')));
  if (!('data' in parsed)) throw new Error(`${join(dir, STORE)} is not a valid store: ${JSON.stringify(parsed)}`);
  return parsed.data;
}

interface FolderState {
  /** Permission bits with the sticky, setuid and setgid bits. */
  mode: number;
  names: string[];
  /** The bytes and mode of every regular file (links, FIFOs and devices are never opened). */
  files: Record<string, SnapshotEntry>;
}

const folderState = (dir: string): FolderState => ({
  mode: statSync(dir).mode & 0o7777,
  names: listDir(dir),
  files: storeSnapshot(dir),
});

const requestsTo = (service: Emulator, path: string) => service.requests.filter((r) => r.path.startsWith(path)).length;

const COMMANDS = new Set(['whoami', 'env', 'exec', 'api', 'switch', 'login', 'logout', 'otp']);

interface Ran extends KashRun {
  label: string;
  /** The kash command run, e.g. `login`. */
  command: string;
  ms: number;
}

/** `kash --config-dir <dir> <args…>` against `service`, timed from spawn to exit. */
async function kashIn(
  service: Emulator,
  dir: string,
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<Ran> {
  const started = performance.now();
  const run = await e2e.kash(dir, args, { env: { KASH_BASE_URL: service.url, ...env }, timeoutMs: 15_000 });
  return {
    ...run,
    label: `kash --config-dir ${dir} ${args.join(' ')}`,
    command: args.find((arg) => COMMANDS.has(arg)) ?? '',
    ms: performance.now() - started,
  };
}

/** The hidden completion, as a shell's TAB runs it: the folder among the words. */
async function complete(dir: string): Promise<Ran> {
  const args = ['__complete', '--config-dir', dir, '--profile', ''];
  const started = performance.now();
  const run = await runKash(args, { timeoutMs: 15_000 });
  return { ...run, label: `kash ${args.join(' ')}`, command: '__complete', ms: performance.now() - started };
}

const loginArgs = (account: PasswordAccount, profile = 'default'): [string[], Record<string, string>] => [
  ['--profile', profile, 'login', '--login', account.login],
  { KASH_PASSWORD: account.password },
];

const login = (service: Emulator, dir: string, account: PasswordAccount = demo, profile = 'default') =>
  kashIn(service, dir, ...loginArgs(account, profile));

/** Exit 6 with one error line holding every `mention`, and nothing on stdout. */
function expectStoreError(run: Ran, ...mentions: Array<string | RegExp>): void {
  expect(run.code, `${run.label}:\n${run.stderr}`).toBe(6);
  expect(run.stdout, run.label).toBe('');
  const errors = run.stderr.split('\n').filter((line) => line.startsWith('error:'));
  expect(errors, `${run.label}:\n${run.stderr}`).toHaveLength(1);
  for (const mention of mentions) {
    if (typeof mention === 'string') expect(errors[0], run.label).toContain(mention);
    else expect(errors[0], run.label).toMatch(mention);
  }
}

const warningsAbout = (run: Ran, dir: string) =>
  run.stderr.split('\n').filter((line) => line.startsWith('warning:') && line.includes(dir));

// ---------------------------------------------------------------------------------------
// System helpers (Linux; the mounts need root)

function mount(later: Later, args: string[], at: string): void {
  execFileSync('mount', [...args, at], { stdio: 'pipe' });
  later(() => {
    try {
      execFileSync('umount', [at], { stdio: 'pipe' });
    } catch {
      execFileSync('umount', ['-l', at], { stdio: 'pipe' });
    }
  });
}

/** The start time of a process (field 22 of /proc/<pid>/stat, counted after the command name's last ')'). */
function startTimeOf(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  if (start === undefined) throw new Error(`no start time in /proc/${pid}/stat: ${stat}`);
  return start;
}

/**
 * Holds a FIFO open for reading and writing (so that neither side blocks) with `bytes` in its
 * buffer: whoever reads the FIFO takes them. `left()` says what is still in it.
 */
function holdFifo(later: Later, path: string, bytes: string): { left(): string } {
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  later(() => closeSync(fd));
  writeSync(fd, bytes);
  return {
    left() {
      const buffer = Buffer.alloc(64 * 1024);
      try {
        return buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, null)).toString('utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return '';
        throw error;
      }
    },
  };
}

/** A FIFO made at `path` holding `bytes`, and the check that kash neither read it nor changed it. */
function plantFifo(later: Later, path: string, mode: string, bytes: string): { untouched(): void } {
  execFileSync('mkfifo', ['-m', mode, path]);
  const fifo = holdFifo(later, path, bytes);
  const seen = lstatSync(path);
  return {
    untouched() {
      const now = lstatSync(path);
      expect(now.isFIFO()).toBe(true);
      expect({ ino: now.ino, mode: now.mode }).toEqual({ ino: seen.ino, mode: seen.mode });
      expect(fifo.left(), 'what is left in the FIFO: kash read it').toBe(bytes);
    },
  };
}

/** What identifies a file and what a chmod, a write or a replacement would change. */
const identity = (stat: Stats) => ({
  dev: stat.dev,
  ino: stat.ino,
  rdev: stat.rdev,
  mode: stat.mode,
  nlink: stat.nlink,
  size: stat.size,
  mtimeMs: stat.mtimeMs,
});

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

// ---------------------------------------------------------------------------------------

describe.concurrent('the store on a hostile file system', () => {
  describe('folders that are not kash’s own', () => {
    it('a 1777 folder like /tmp, holding others’ files and a store: reads warn, saving is refused (exit 6, nothing sent), and whoami, env, login, logout and __complete change nothing in it', async () => {
      const service = await e2e.startEmulator();
      const dir = e2e.tempDir('tmp-like-');
      writeFileSync(join(dir, 'someone-elses.txt'), 'not kash’s\n', { mode: 0o644 });
      writeStore(dir, storeText({ default: demo }, service.url));
      chmodSync(dir, 0o1777);
      const before = folderState(dir);

      const check = (run: Ran) => expect(folderState(dir), `after ${run.label}`).toEqual(before);

      const whoami = await kashIn(service, dir, ['whoami', '--json']);
      expect(whoami.code, whoami.stderr).toBe(0);
      expect(JSON.parse(whoami.stdout)).toMatchObject({ profile: 'default', shopId: '42' });
      expect(warningsAbout(whoami, dir), `${whoami.label} warns about the folder:\n${whoami.stderr}`).toHaveLength(1);
      // The mode as chmod would take it back, sticky bit and all.
      expect(warningsAbout(whoami, dir)[0]).toContain('(mode 1777)');
      check(whoami);

      const env = await kashIn(service, dir, ['env', '--format', 'json']);
      expect(env.code, env.stderr).toBe(0);
      expect(JSON.parse(env.stdout)).toEqual({ KASH_APIKEY: demo.apiKey, KASH_SHOPID: '42' });
      expect(warningsAbout(env, dir), `${env.label} warns about the folder:\n${env.stderr}`).toHaveLength(1);
      check(env);

      const saving = await login(service, dir, shop2, 'other');
      expectStoreError(saving, dir);
      expect(requestsTo(service, PASSWORD_LOGIN), 'password logins sent').toBe(0);
      check(saving);

      const logout = await kashIn(service, dir, ['logout']);
      expectStoreError(logout, dir);
      check(logout);

      const completion = await complete(dir);
      expect(completion.code).toBe(0);
      expect(completion.stderr).toBe('');
      expect(completion.stdout.split('\n')).toContain('default');
      check(completion);
    });

    it('a 0755 project folder holding a file of its own: whoami, env, login, logout and __complete leave its mode and its file alone; the only new file is the store a login saves', async () => {
      const service = await e2e.startEmulator();
      const dir = e2e.tempDir('project-');
      writeFileSync(join(dir, 'package.json'), '{"name":"a-project"}\n', { mode: 0o644 });
      chmodSync(dir, 0o755);
      const project = storeSnapshot(dir)['package.json'];

      const check = (run: Ran, names: string[]) => {
        const now = folderState(dir);
        expect(now.mode, `after ${run.label}: the folder's mode`).toBe(0o755);
        expect(now.names, `after ${run.label}`).toEqual(names);
        expect(now.files['package.json'], `after ${run.label}`).toEqual(project);
        if (names.includes(STORE)) expect(now.files[STORE]?.mode, `after ${run.label}: the store's mode`).toBe(0o600);
        // 0755 is not writable by others: nothing to warn about.
        expect(warningsAbout(run, dir), `${run.label}:\n${run.stderr}`).toEqual([]);
      };

      const whoami = await kashIn(service, dir, ['whoami']);
      expect(whoami.code, whoami.stderr).toBe(5);
      check(whoami, ['package.json']);

      const env = await kashIn(service, dir, ['env']);
      expect(env.code, env.stderr).toBe(5);
      check(env, ['package.json']);

      const empty = await complete(dir);
      expect(empty.code).toBe(0);
      expect(empty.stderr).toBe('');
      check(empty, ['package.json']);

      const saved = await login(service, dir);
      expect(saved.code, saved.stderr).toBe(0);
      check(saved, [STORE, 'package.json']);
      expect(storeOnDisk(dir).profiles.default?.credentials).toMatchObject({ apiKey: demo.apiKey, shopId: '42' });

      const completion = await complete(dir);
      expect(completion.code).toBe(0);
      expect(completion.stderr).toBe('');
      expect(completion.stdout.split('\n')).toContain('default');
      check(completion, [STORE, 'package.json']);

      const logout = await kashIn(service, dir, ['logout']);
      expect(logout.code, logout.stderr).toBe(0);
      check(logout, [STORE, 'package.json']);
      expect(storeOnDisk(dir).profiles.default).toBeUndefined();
    });

    it('a 0777 folder holding only kash’s files: reads warn and leave it, a save tightens it to 0700; a folder kash creates is 0700', async () => {
      const service = await e2e.startEmulator();
      const dir = e2e.tempDir('kash-only-');
      writeStore(dir, storeText({ default: demo }, service.url));
      chmodSync(dir, 0o777);

      const whoami = await kashIn(service, dir, ['whoami']);
      expect(whoami.code, whoami.stderr).toBe(0);
      expect(warningsAbout(whoami, dir), whoami.stderr).toHaveLength(1);
      expect(warningsAbout(whoami, dir)[0]).toContain('(mode 0777)');
      const completion = await complete(dir);
      expect(completion.code).toBe(0);
      expect(statSync(dir).mode & 0o7777, 'after a read and a completion').toBe(0o777);

      const saved = await login(service, dir, shop2, 'other');
      expect(saved.code, saved.stderr).toBe(0);
      expect(statSync(dir).mode & 0o7777, 'after a login').toBe(0o700);
      expect(warningsAbout(saved, dir), `${saved.label} says it tightened the folder:\n${saved.stderr}`).toHaveLength(
        1,
      );
      expect(Object.keys(storeOnDisk(dir).profiles).sort()).toEqual(['default', 'other']);
      expect(listDir(dir)).toEqual([STORE]);

      const fresh = e2e.freshDir();
      const created = await login(service, fresh);
      expect(created.code, created.stderr).toBe(0);
      expect(statSync(fresh).mode & 0o7777).toBe(0o700);
      expect(statSync(join(fresh, STORE)).mode & 0o7777).toBe(0o600);
    });
    const notKashsOwn: Array<{ what: string; needs: Requirement[]; make(dir: string, baseUrl: string): number }> = [
      {
        what: 'an empty 1777 folder (shared by design, even before anyone uses it)',
        needs: [],
        make: () => 0o1777,
      },
      {
        what: 'a 0777 folder holding a store and credentials.json.bak, a copy of the user’s own',
        needs: [],
        make(dir, baseUrl) {
          writeStore(dir, storeText({ default: demo }, baseUrl));
          writeFileSync(join(dir, `${STORE}.bak`), storeText({ default: demo }, baseUrl), { mode: 0o600 });
          return 0o777;
        },
      },
      {
        what: 'a 0777 folder of another user holding only a store',
        needs: ['chown'],
        make(dir, baseUrl) {
          writeStore(dir, storeText({ default: demo }, baseUrl));
          chownSync(dir, 65534, 65534);
          return 0o777;
        },
      },
    ];
    for (const { what, needs, make } of notKashsOwn) {
      requires(...needs).it(
        `${what}: a login is refused (exit 6, nothing sent) and the folder is left as it is`,
        async () => {
          const service = await e2e.startEmulator();
          const dir = e2e.tempDir('not-kash-');
          chmodSync(dir, make(dir, service.url));
          const before = folderState(dir);

          const saving = await login(service, dir, shop2, 'other');
          expectStoreError(saving, `refusing to save in ${dir}`);
          expect(requestsTo(service, PASSWORD_LOGIN), 'password logins sent').toBe(0);
          expect(folderState(dir), `after ${saving.label}`).toEqual(before);
        },
      );
    }
  });

  describe('what stands at the store’s name or its lock’s is not a regular file', () => {
    interface Planted {
      /** Asserts that it was never followed, read, chmodded, replaced or copied. */
      untouched(): void;
    }
    interface Hostile {
      what: string;
      needs: Requirement[];
      /** Which name it takes: the store's, or (in a folder holding a valid store) the lock's. */
      at: typeof STORE | typeof LOCK;
      /** How the error says what it is. */
      kind: RegExp;
      plant(dir: string, baseUrl: string, later: Later): Planted;
    }

    const HOSTILE: Hostile[] = [
      {
        what: 'the store a symbolic link to a valid store elsewhere, 0644',
        needs: [],
        at: STORE,
        kind: /symbolic link/,
        plant(dir, baseUrl) {
          const target = join(e2e.tempDir('elsewhere-'), 'store.json');
          writeFileSync(target, storeText({ default: demo }, baseUrl), { mode: 0o644 });
          chmodSync(target, 0o644);
          const bytes = readFileSync(target);
          // Accessed an hour before it was modified: any read now moves its access time (relatime).
          const { mtime } = statSync(target);
          utimesSync(target, new Date(mtime.getTime() - 3_600_000), mtime);
          const seen = statSync(target);
          symlinkSync(target, join(dir, STORE));
          return {
            untouched() {
              expect(lstatSync(join(dir, STORE)).isSymbolicLink()).toBe(true);
              expect(readlinkSync(join(dir, STORE))).toBe(target);
              const now = statSync(target);
              expect(now.atimeMs, 'the target’s access time: it was read').toBe(seen.atimeMs);
              expect(identity(now)).toEqual(identity(seen));
              expect(readFileSync(target).equals(bytes), 'the target’s bytes').toBe(true);
            },
          };
        },
      },
      {
        what: 'the store a symbolic link to /dev/zero',
        needs: [],
        at: STORE,
        kind: /symbolic link/,
        plant(dir) {
          const seen = statSync('/dev/zero');
          symlinkSync('/dev/zero', join(dir, STORE));
          return {
            untouched() {
              expect(readlinkSync(join(dir, STORE))).toBe('/dev/zero');
              const now = statSync('/dev/zero');
              expect({ rdev: now.rdev, ino: now.ino, mode: now.mode }).toEqual({
                rdev: seen.rdev,
                ino: seen.ino,
                mode: seen.mode,
              });
            },
          };
        },
      },
      {
        what: 'the store a character device made with mknod (as /dev/null), 0644',
        needs: ['mknod'],
        at: STORE,
        kind: /device/,
        plant(dir) {
          const path = join(dir, STORE);
          execFileSync('mknod', ['-m', '0644', path, 'c', '1', '3']);
          const seen = lstatSync(path);
          return {
            untouched() {
              const now = lstatSync(path);
              expect(now.isCharacterDevice()).toBe(true);
              expect(identity(now)).toEqual(identity(seen));
              expect(now.mode & 0o7777).toBe(0o644);
            },
          };
        },
      },
      {
        what: 'the store a FIFO holding a valid store, 0644',
        needs: ['mkfifo'],
        at: STORE,
        kind: /FIFO/,
        plant(dir, baseUrl, later) {
          return plantFifo(later, join(dir, STORE), '0644', storeText({ default: demo }, baseUrl));
        },
      },
      {
        what: 'the lock a FIFO, beside a valid store',
        needs: ['mkfifo'],
        at: LOCK,
        kind: /FIFO/,
        plant(dir, _baseUrl, later) {
          const bytes = JSON.stringify({ token: randomBytes(12).toString('hex'), pid: 1 });
          return plantFifo(later, join(dir, LOCK), '0600', bytes);
        },
      },
      {
        what: 'the store a 3 MiB file of valid JSON',
        needs: [],
        at: STORE,
        kind: /KiB|MiB|large/,
        plant(dir, baseUrl) {
          const path = join(dir, STORE);
          writeStore(dir, storeText({ default: demo }, baseUrl).padEnd(3 * 1024 * 1024, ' '));
          const hash = sha256(readFileSync(path));
          const seen = lstatSync(path);
          return {
            untouched() {
              expect(identity(lstatSync(path))).toEqual(identity(seen));
              expect(sha256(readFileSync(path)) === hash, 'the store’s bytes').toBe(true);
            },
          };
        },
      },
    ];

    for (const hostile of HOSTILE) {
      const reads =
        hostile.at === LOCK
          ? 'whoami and env work without it, login and logout are'
          : 'whoami, env, login and logout are each';
      requires(...hostile.needs).it(
        `${hostile.what}: ${reads} exit 6 naming it in under ${AT_ONCE_MS / 1000} s, nothing is sent, and it is never followed, read, chmodded, replaced or copied`,
        async ({ onTestFinished }) => {
          const service = await e2e.startEmulator();
          const dir = e2e.tempDir();
          if (hostile.at === LOCK) writeStore(dir, storeText({ default: demo }, service.url));
          const planted = hostile.plant(dir, service.url, undoer(onTestFinished));
          const path = join(dir, hostile.at);
          const before = folderState(dir);

          const runs: Ran[] = [];
          for (const args of [['whoami'], ['env'], loginArgs(shop2)[0], ['logout']]) {
            const run = await kashIn(service, dir, args, { KASH_PASSWORD: shop2.password });
            runs.push(run);
            const reading = args[0] === 'whoami' || args[0] === 'env';
            if (hostile.at === LOCK && reading) expect(run.code, `${run.label}:\n${run.stderr}`).toBe(0);
            else expectStoreError(run, path, hostile.kind);
            expect(run.ms, `${run.label} took ${Math.round(run.ms)} ms`).toBeLessThan(AT_ONCE_MS);
          }
          expect(requestsTo(service, PASSWORD_LOGIN), 'password logins sent').toBe(0);
          planted.untouched();
          // No copy, no claim, no temporary file; the store itself (if a file) unchanged.
          expect(folderState(dir)).toEqual(before);
          console.info(`${hostile.what}: ${runs.map((r) => `${r.command} ${Math.round(r.ms)} ms`).join(', ')}`);
        },
      );
    }
  });

  it('a corrupt store: read commands are exit 6 naming it; login sets it aside as a real copy of its bytes (0600, its own inode, not a link), warns, and saves afresh', async () => {
    const service = await e2e.startEmulator();
    const dir = e2e.tempDir();
    const corrupt = Buffer.from(
      `{"version": ${STORE_VERSION}, "profiles": {"default": {"credentials": {"apiKey": "trunc`,
    );
    writeStore(dir, corrupt, 0o644);
    // A second name for the corrupt file, outside the folder: a hard link set aside would share its inode.
    const witness = join(e2e.tempDir('witness-'), 'corrupt-store');
    linkSync(join(dir, STORE), witness);
    const original = statSync(witness).ino;

    const whoami = await kashIn(service, dir, ['whoami']);
    expectStoreError(whoami, join(dir, STORE), /corrupt/);

    const saved = await login(service, dir);
    expect(saved.code, saved.stderr).toBe(0);
    const asides = listDir(dir).filter((name) => name.startsWith(`${STORE}.corrupt-`));
    expect(asides, listDir(dir).join(', ')).toHaveLength(1);
    expect(listDir(dir)).toEqual([STORE, asides[0]!].sort());
    const aside = join(dir, asides[0]!);
    const copy = lstatSync(aside);
    expect(copy.isFile()).toBe(true);
    expect(copy.ino, 'the set-aside copy is the corrupt file itself (a link)').not.toBe(original);
    expect(copy.nlink, 'links to the set-aside copy').toBe(1);
    expect(copy.mode & 0o7777).toBe(0o600);
    expect(readFileSync(aside).equals(corrupt), 'the set-aside copy holds the corrupt bytes').toBe(true);
    expect(
      saved.stderr.split('\n').some((line) => line.startsWith('warning:') && line.includes(aside)),
      `a warning names ${aside}:\n${saved.stderr}`,
    ).toBe(true);
    // The new store is a file of its own; the old one was never written in place.
    expect(statSync(join(dir, STORE)).ino).not.toBe(original);
    expect(readFileSync(witness).equals(corrupt)).toBe(true);
    expect(storeOnDisk(dir).profiles.default?.credentials).toMatchObject({ apiKey: demo.apiKey, shopId: '42' });
  });

  it('a store of a newer format ("version": 3): every command is exit 6 saying it was written by a newer kash and to upgrade; nothing is sent, and login neither sets it aside nor overwrites it', async () => {
    const service = await e2e.startEmulator();
    const dir = e2e.tempDir();
    const newer = `${JSON.stringify(
      {
        version: 3,
        default: 'default',
        profiles: { default: { credentials: { storage: 'vault', vaultRef: 'kash/default', shopId: '42' } } },
        sharing: { with: ['someone'] },
      },
      null,
      '\t',
    )}\n`;
    writeStore(dir, newer);
    const before = folderState(dir);

    const commands: Array<[string[], Record<string, string>?]> = [
      [['whoami']],
      [['whoami', '--all']],
      [['env']],
      [['exec', '--', process.execPath, '-e', '']],
      [['api', 'getPaymentModes']],
      [['switch', 'default']],
      loginArgs(demo),
      [['logout']],
      [['logout', '--all']],
      [['otp', 'request', '--email', ONE]],
      [['otp', 'consume', '--email', ONE, '--otp', '123456']],
    ];
    const runs = await Promise.all(commands.map(([args, env]) => kashIn(service, dir, args, env)));
    for (const run of runs) {
      expectStoreError(run, join(dir, STORE), /written by a newer kash/);
      expect(run.stderr, run.label).toMatch(/upgrade/i);
    }
    expect(service.requests.map((r) => r.path)).toEqual([]);
    expect(folderState(dir)).toEqual(before);
  });

  describe('the lock across processes', () => {
    it('a lock in kash’s format naming a live process that is not its owner (another start time), refreshed hours ago: login takes it over at once and saves; naming that process rightly, it is waited on', async ({
      onTestFinished,
    }) => {
      const service = await e2e.startEmulator();
      // A live process that is no kash: what a pid of a dead lock holder may now belong to.
      const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 60_000)'], { stdio: 'ignore' });
      undoer(onTestFinished)(() => other.kill('SIGKILL'));
      const pid = other.pid;
      if (pid === undefined) throw new Error('could not start a process');
      const start = startTimeOf(pid);
      const hoursAgo = new Date(Date.now() - 5 * 3_600_000);

      const withLock = (ownerStart: string) => {
        const dir = e2e.tempDir();
        writeStore(dir, storeText({ kept: shop2 }, service.url));
        const lock = JSON.stringify({
          token: randomBytes(12).toString('hex'),
          pid,
          boot: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
          pidns: readlinkSync('/proc/self/ns/pid'),
          start: ownerStart,
          host: hostname(),
        });
        writeFileSync(join(dir, LOCK), lock, { mode: 0o600 });
        utimesSync(join(dir, LOCK), hoursAgo, hoursAgo);
        return { dir, lock, store: readFileSync(join(dir, STORE)) };
      };
      const stale = withLock(String(Number(start) - 1));
      const live = withLock(start);

      const [args, env] = loginArgs(demo);
      const waiting = e2e.start(live.dir, args, { env: { KASH_BASE_URL: service.url, ...env }, timeoutMs: 30_000 });
      const waitingSince = performance.now();

      const takeover = await kashIn(service, stale.dir, args, env);
      expect(takeover.code, takeover.stderr).toBe(0);
      expect(takeover.ms, `the login took ${Math.round(takeover.ms)} ms`).toBeLessThan(5_000);
      expect(Object.keys(storeOnDisk(stale.dir).profiles).sort()).toEqual(['default', 'kept']);
      expect(storeOnDisk(stale.dir).profiles.default?.credentials).toMatchObject({ apiKey: demo.apiKey });
      expect(listDir(stale.dir), 'the lock taken over is released').toEqual([STORE]);

      // The lock of a live holder (however old its refresh time, by another clock than ours)
      // is waited on: after the other login is done, and 2 s at least, this one still waits.
      await sleep(Math.max(1_000, 2_000 - (performance.now() - waitingSince)));
      expect(waiting.child.exitCode, 'the login facing a live holder’s lock has ended').toBeNull();
      expect(readFileSync(join(live.dir, LOCK), 'utf8')).toBe(live.lock);
      waiting.child.kill('SIGKILL');
      expect((await waiting.result).signal).toBe('SIGKILL');
      expect(readFileSync(join(live.dir, STORE)).equals(live.store)).toBe(true);
      // Only the login that took the stale lock over asked the service.
      expect(requestsTo(service, PASSWORD_LOGIN)).toBe(1);
      // Neither login signalled the process its locks named.
      expect(other.exitCode).toBeNull();
      expect(other.signalCode).toBeNull();
    });
  });

  requires('mount').describe('a store folder that cannot take a save', () => {
    /** A 64 KiB tmpfs holding a store (by default a valid one), filled up until one page is free. */
    function nearlyFullTmpfs(later: Later, baseUrl: string, store = storeText({ default: shop2 }, baseUrl)): string {
      const dir = e2e.freshDir();
      mkdirSync(dir, { mode: 0o700 });
      mount(later, ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs'], dir);
      writeStore(dir, store);
      const free = () => {
        const stats = statfsSync(dir);
        return stats.bavail * stats.bsize;
      };
      while (free() > 4096) appendFileSync(join(dir, 'filler'), Buffer.alloc(1024, 'f'));
      expect(free(), 'bytes free on the tmpfs').toBe(4096);
      return dir;
    }

    /** A store folder seen through a read-only bind mount. */
    function readOnlyBind(later: Later, baseUrl: string): string {
      const source = e2e.tempDir('source-');
      writeStore(source, storeText({ default: shop2 }, baseUrl));
      const dir = e2e.freshDir();
      mkdirSync(dir, { mode: 0o700 });
      mount(later, ['--bind', source], dir);
      execFileSync('mount', ['-o', 'remount,bind,ro', dir], { stdio: 'pipe' });
      expect(() => writeFileSync(join(dir, 'probe'), 'x'), 'a write to the read-only bind mount').toThrow(/EROFS/);
      return dir;
    }

    for (const [what, make] of [
      ['a 64 KiB tmpfs with one free page', nearlyFullTmpfs],
      // Set aside, a corrupt store takes a page of its own beside the new one.
      [
        'a 64 KiB tmpfs with one free page and a corrupt store',
        (later: Later, baseUrl: string) => nearlyFullTmpfs(later, baseUrl, '{"version": 1, "profiles": {'),
      ],
      ['a read-only bind mount of a store folder', readOnlyBind],
    ] as const) {
      it(`${what}: otp consume is exit 6 before spending the code, which then works from another folder; a password login is exit 6 and sends nothing`, async ({
        onTestFinished,
      }) => {
        const service = await e2e.startEmulator();
        const dir = make(undoer(onTestFinished), service.url);
        const before = folderState(dir);
        // Another folder where `otp request` was run: the request remembered, the code emailed.
        const elsewhere = e2e.tempDir();
        writeFixture(elsewhere, {
          default: { pendingCode: pendingCode(ONE, shops.solo.accountId, service.url, shops.solo.title) },
        });
        const code = service.issueCode(ONE, shops.solo.accountId);
        registerSecret(code, 'the emailed code');

        const consume = await kashIn(service, dir, ['otp', 'consume', '--email', ONE, '--otp', code]);
        expectStoreError(consume, join(dir, STORE));
        expect(requestsTo(service, OTP_LOGIN), 'codes spent').toBe(0);

        const password = await login(service, dir, demo);
        expectStoreError(password, join(dir, STORE));
        expect(requestsTo(service, PASSWORD_LOGIN), 'password logins sent').toBe(0);
        expect(folderState(dir)).toEqual(before);

        const consumed = await kashIn(service, elsewhere, ['otp', 'consume', '--otp', code]);
        expect(consumed.code, consumed.stderr).toBe(0);
        expect(storeOnDisk(elsewhere).profiles.default?.credentials).toMatchObject({
          apiKey: shops.solo.apiKey,
          shopId: shops.solo.shopId,
          email: ONE,
          method: 'otp',
        });
      });
    }
  });

  requires('script').it(
    'Ctrl-C at the code prompt of `login --otp` (a real pty): exit 130, the credentials unchanged byte for byte, the request remembered, and the message shows the exact `kash otp consume` line, which finishes the login',
    async ({ onTestFinished }) => {
      const service = await e2e.startEmulator();
      const dir = e2e.tempDir();
      writeStore(dir, storeText({ pty: demo, other: shop2 }, service.url));
      const credentials = (data: StoreData, profile: string) => JSON.stringify(data.profiles[profile]?.credentials);
      const before = storeOnDisk(dir);

      const session = startOnPty(['--config-dir', dir, '--profile', 'pty', 'login', '--otp', '--email', ONE], {
        KASH_BASE_URL: service.url,
      });
      undoer(onTestFinished)(() => session.kill());
      await session.waitFor(`Code from the email sent to ${ONE}:`);
      expect(service.outbox).toHaveLength(1);
      registerSecret(service.outbox[0]!.code, 'the emailed code');
      session.press('ctrl-c');
      expect(await session.exit(), session.output()).toBe(130);

      const after = storeOnDisk(dir);
      expect(credentials(after, 'pty'), 'the credentials of the profile logging in').toBe(credentials(before, 'pty'));
      expect(credentials(after, 'other')).toBe(credentials(before, 'other'));
      expect(after.profiles.pty?.pendingCode).toMatchObject({ email: ONE, accountId: shops.solo.accountId });
      expect(listDir(dir)).toEqual([STORE]);

      const output = session.output();
      expect(output).toMatch(/remembered/);
      expect(output).not.toMatch(/nothing (was )?changed/i);
      const line = `kash otp consume --profile pty --config-dir ${dir} --otp <code>`;
      expect(output).toContain(line);

      // That line, as a person would run it with the code from the email.
      const code = service.outbox[0]!.code;
      const words = line
        .split(' ')
        .slice(1)
        .map((word) => (word === '<code>' ? code : word));
      const finish = await runKash(words, { env: { KASH_BASE_URL: service.url }, timeoutMs: 15_000 });
      expect(finish.code, finish.stderr).toBe(0);
      const done = storeOnDisk(dir);
      expect(done.profiles.pty?.credentials).toMatchObject({ apiKey: shops.solo.apiKey, method: 'otp', email: ONE });
      expect(done.profiles.pty?.pendingCode).toBeUndefined();
    },
  );
});

// ---------------------------------------------------------------------------------------
// Last and alone: the heaviest load of the file.

/**
 * Logins per namespace: eight each already keep the lock changing hands between the two
 * namespaces throughout; `npm run test:stress` (KASH_STRESS=full) runs twenty each.
 */
const SIDE_LOGINS = process.env.KASH_STRESS === 'full' ? 20 : 8;

/** Runs SIDE_LOGINS logins at once, each to a profile of its own (`<side>-<n>`), and says how each ended. */
const SIDE_SCRIPT = `
echo "pidns $(readlink /proc/self/ns/pid)"
i=1
while [ "$i" -le "$COUNT" ]; do
  (
    "$NODE" "$KASH" --config-dir "$DIR" --profile "$SIDE-$i" login --login "$LOGIN_NAME" >/dev/null 2>"$ERRORS/$SIDE-$i"
    echo "exit $SIDE-$i $?"
  ) &
  i=$((i + 1))
done
wait
`;

describe('many kash processes taking turns at one lock', () => {
  requires('unshare').describe('two containers sharing one config folder', () => {
    it(`two PID namespaces, each running ${SIDE_LOGINS} password logins to profiles of its own at the same time: all ${2 * SIDE_LOGINS} saved, no claim left behind`, async () => {
      const service = await e2e.startEmulator();
      const dir = e2e.freshDir();
      const errors = e2e.tempDir('errors-');
      const sides = { a: demo, b: shop2 } as const;

      const started = performance.now();
      const runs = await Promise.all(
        Object.entries(sides).map(([side, account]) => {
          const child = spawn('unshare', ['--pid', '--fork', '--mount-proc', 'sh', '-c', SIDE_SCRIPT], {
            env: e2e.env({
              KASH_BASE_URL: service.url,
              KASH_PASSWORD: account.password,
              LOGIN_NAME: account.login,
              SIDE: side,
              COUNT: String(SIDE_LOGINS),
              DIR: dir,
              ERRORS: errors,
              NODE: process.execPath,
              KASH: KASH_BIN,
            }),
            stdio: ['pipe', 'pipe', 'pipe'],
          }) as ChildProcessWithoutNullStreams;
          child.stdin.end();
          return collect(child, 50_000);
        }),
      );
      const took = performance.now() - started;

      const stderrOf = (profile: string) => readFileSync(join(errors, profile), 'utf8');
      const namespaces = runs.map((run, i) => {
        expect(run.code, `side ${'ab'[i]}: ${run.stderr}`).toBe(0);
        return /^pidns (.+)$/m.exec(run.stdout)?.[1];
      });
      expect(new Set([...namespaces, readlinkSync('/proc/self/ns/pid')]).size, `namespaces: ${namespaces}`).toBe(3);

      const exits = runs.flatMap((run) => [...run.stdout.matchAll(/^exit (\S+) (\d+)$/gm)]);
      expect(exits).toHaveLength(2 * SIDE_LOGINS);
      const store = storeOnDisk(dir);
      const accountOf = (profile: string) => (profile.startsWith('a-') ? sides.a : sides.b);
      // Every login's fate at once: how it ended, and whether what it saved is there.
      const failures = exits.flatMap(([, profile = '', status]) => {
        const stderr = stderrOf(profile);
        const problem = hygieneProblem(['login'], { code: 0, signal: null, stdout: '', stderr });
        if (problem !== undefined) return [`${profile}: ${problem}`];
        const error = stderr.split('\n').find((line) => line.startsWith('error:'));
        if (status !== '0') return [`${profile}: exit ${status}: ${error ?? stderr}`];
        const saved = store.profiles[profile]?.credentials;
        const account = accountOf(profile);
        if (saved?.storage !== 'file' || saved.apiKey !== account.apiKey || saved.login !== account.login)
          return [`${profile}: exit 0, yet the store holds ${JSON.stringify(saved)}`];
        return [];
      });
      expect(failures, `${failures.length} of ${2 * SIDE_LOGINS} logins failed or were lost`).toEqual([]);
      expect(Object.keys(store.profiles).sort()).toEqual(exits.map(([, profile]) => profile).sort());
      expect(requestsTo(service, PASSWORD_LOGIN)).toBe(2 * SIDE_LOGINS);
      // No lock, no claim, no temporary or trial file.
      expect(listDir(dir)).toEqual([STORE]);
      console.info(`two PID namespaces: ${2 * SIDE_LOGINS} logins in ${Math.round(took)} ms`);
    });
  });

  /**
   * A live holder of the lock (this script's own process, in kash's lock format) that hands it
   * over again and again, a new file each time, as logins taking turns do: for `ms`, then frees it.
   */
  const HAND_OVER_SCRIPT = `
const fs = require('node:fs');
const [lock, spare, ms] = process.argv.slice(1);
const stat = fs.readFileSync('/proc/self/stat', 'utf8');
const owner = JSON.stringify({
  token: require('node:crypto').randomBytes(12).toString('hex'),
  pid: process.pid,
  boot: fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
  pidns: fs.readlinkSync('/proc/self/ns/pid'),
  start: stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19],
  host: require('node:os').hostname(),
});
const files = ['a', 'b'].map((name) => {
  fs.writeFileSync(spare + '/' + name, owner, { mode: 0o600 });
  return spare + '/' + name;
});
let handovers = 0;
const end = Date.now() + Number(ms);
while (Date.now() < end) {
  fs.linkSync(files[handovers % 2], spare + '/next');
  fs.renameSync(spare + '/next', lock);
  handovers++;
}
fs.rmSync(lock);
console.log(handovers);
`;

  it('a login waiting while the lock passes from holder to holder (a new file at each turn) waits its turn, is never refused, and saves once the lock is free', async ({
    onTestFinished,
  }) => {
    const service = await e2e.startEmulator();
    const dir = e2e.tempDir();
    writeStore(dir, storeText({ kept: shop2 }, service.url));
    const spare = e2e.tempDir('spare-');
    const HOLD_MS = 1_500;
    const holder = spawn(process.execPath, ['-e', HAND_OVER_SCRIPT, join(dir, LOCK), spare, String(HOLD_MS)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    }) as ChildProcessWithoutNullStreams;
    undoer(onTestFinished)(() => holder.kill('SIGKILL'));
    holder.stdin.end();
    const held = collect(holder, 30_000);
    while (!listDir(dir).includes(LOCK)) await sleep(5);

    const waiting = await login(service, dir, demo);
    const handed = await held;
    expect(handed.code, handed.stderr).toBe(0);
    expect(
      waiting.code,
      `${waiting.label}, while the lock changed hands ${handed.stdout.trim()} times:\n${waiting.stderr}`,
    ).toBe(0);
    expect(waiting.ms, 'the login ended before the lock was free').toBeGreaterThan(HOLD_MS - 300);
    expect(Object.keys(storeOnDisk(dir).profiles).sort()).toEqual(['default', 'kept']);
    expect(listDir(dir)).toEqual([STORE]);
  });
});
