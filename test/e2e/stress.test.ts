// The CLI under stress, as real processes against the emulator: `kash login` killed with
// SIGKILL at random moments (mostly while it saves), dozens of commands at once on one
// store, and a store that cannot be written (a read-only filesystem, a full disk).
//
// shared/CLI.md, "Safety rules": writes are atomic (a kill -9 at any moment leaves the old
// or the new store), concurrent logins lose nothing, a failed login leaves the stored
// credentials exactly as they were; "Exit codes": 6 when the store cannot be used.
//
// `npm test` runs a short kill loop (12 rounds, more should the kills not yet have landed
// everywhere they must) and 20 commands at once; `npm run test:stress` (KASH_STRESS=full)
// runs 200 rounds and 50 commands. The stores the tests start from are written by the
// tests (test/support/store-fixture.ts), as a password login saves them.
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statfsSync,
  statSync,
  watch,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseStore, type SavedCredentials, type StoreData } from '../../src/store/records.js';
import { type KashOptions, type KashRun, runKash, startKash, useE2e } from '../support/e2e.js';
import { accounts, type Emulator, type PasswordAccount, startEmulator } from '../support/emulator.js';
import { requires } from '../support/requires.js';
import { passwordCredentials, writeStore } from '../support/store-fixture.js';
import { listDir, storeSnapshot } from '../support/store-snapshot.js';

const FULL = process.env.KASH_STRESS === 'full';
const KILL_ROUNDS = FULL ? 200 : 12;
/** Profiles of the simultaneous commands, five commands each. */
const CONTENDING_PROFILES = FULL ? 10 : 4;
const { demo, shop2, legacy } = accounts;
const STORE = 'credentials.json';

vi.setConfig({ testTimeout: 60_000 });

const e2e = useE2e();
const { freshDir, kash } = e2e;
let emulator: Emulator;
/** Resolved with the time (Date.now()) of the next request the emulator receives. */
let requestWaiters: Array<(at: number) => void> = [];
/** Mounts to undo and immutable flags to clear in afterAll (before the harness removes the folders). */
const cleanups: Array<() => void> = [];

beforeAll(async () => {
  emulator = e2e.emulator;
  const requests = emulator.requests;
  const push = requests.push.bind(requests);
  requests.push = (...items) => {
    const count = push(...items);
    const at = Date.now();
    const waiters = requestWaiters;
    requestWaiters = [];
    for (const wake of waiters) wake(at);
    return count;
  };
});

afterAll(() => {
  // The last registered is undone first.
  for (const cleanup of cleanups.reverse()) {
    try {
      cleanup();
    } catch {
      // Best effort: the next cleanup may still succeed.
    }
  }
});

function nextRequest(): Promise<number> {
  return new Promise((wake) => requestWaiters.push(wake));
}

/**
 * Resolves at the first event on `path` (seen by a watch on its folder) after which `holds`
 * is true, or once `until` settles.
 */
function touched(path: string, until: Promise<unknown>, holds: () => boolean = () => true): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      watcher.close();
      resolve();
    };
    const watcher = watch(dirname(path), (_event, name) => {
      if (name === basename(path) && holds()) done();
    });
    until.then(done, done);
  });
}

function loginArgs(
  dir: string,
  profile: string,
  account: PasswordAccount,
  extra: string[] = [],
): [string[], KashOptions] {
  return [
    ['--config-dir', dir, '--profile', profile, 'login', '--login', account.login, ...extra],
    { env: { KASH_BASE_URL: emulator.url, KASH_PASSWORD: account.password } },
  ];
}

function login(
  dir: string,
  profile: string,
  account: PasswordAccount,
  extra: string[] = [],
  baseUrl = emulator.url,
): Promise<KashRun> {
  const [args, options] = loginArgs(dir, profile, account, extra);
  return runKash(args, { ...options, env: { ...options.env, KASH_BASE_URL: baseUrl }, timeoutMs: 60_000 });
}

/** The store file as it is on disk, checked to be whole JSON and a valid store. */
function storeOnDisk(dir: string, label: string): StoreData {
  const text = readFileSync(join(dir, STORE), 'utf8');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new Error(
      `${label}: the store is not whole JSON (${(error as Error).message}): ${JSON.stringify(text.slice(0, 200))}…`,
    );
  }
  const parsed = parseStore(data);
  if (!('data' in parsed)) throw new Error(`${label}: not a store: ${JSON.stringify(parsed)}`);
  return parsed.data;
}

/** Whether `saved` is, field for field, what a password login of `account` against `baseUrl` saves. */
function isLoginOf(
  saved: SavedCredentials | undefined,
  account: PasswordAccount,
  baseUrl: string,
  notBefore = 0,
): boolean {
  return (
    saved !== undefined &&
    saved.storage === 'file' &&
    saved.apiKey === account.apiKey &&
    saved.shopId === String(account.shopId) &&
    saved.login === account.login &&
    saved.email === null &&
    saved.method === 'password' &&
    saved.baseUrl === baseUrl &&
    Date.parse(saved.obtainedAt) >= notBefore - 1000
  );
}

const accountOf = (saved: SavedCredentials | undefined) =>
  [demo, shop2].find((a) => saved?.storage === 'file' && a.apiKey === saved.apiKey);
const other = (account: PasswordAccount | undefined) => (account === demo ? shop2 : demo);
const random = (low: number, high: number) => low + Math.random() * (high - low);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

describe('kash login killed with SIGKILL', () => {
  it(
    `leaves the old or the new store every time, over ${KILL_ROUNDS} kills spread over the login and packed into its save`,
    async () => {
      const dir = freshDir();
      const lock = join(dir, `${STORE}.lock`);
      writeStore(dir, {
        main: { credentials: passwordCredentials(demo, emulator.url) },
        'side-a': { credentials: passwordCredentials(shop2, emulator.url) },
        'side-b': { credentials: passwordCredentials(demo, emulator.url) },
      });

      // How long a login takes, from spawn and from the moment its request reaches the
      // service (after which comes the save): the kill delays are drawn from these.
      const totals: number[] = [];
      const afterRequest: number[] = [];
      for (let i = 0; i < 4; i++) {
        const [args, options] = loginArgs(dir, 'warm', i % 2 ? demo : shop2);
        const requested = nextRequest();
        const started = startKash(args, options);
        const run = await started.result;
        const closedAt = Date.now();
        expect(run.code, run.stderr).toBe(0);
        totals.push(closedAt - started.startedAt);
        afterRequest.push(closedAt - (await requested));
      }
      const wholeRun = median(totals);
      const saveWindow = Math.max(...afterRequest);

      const outcomes = { old: 0, new: 0, exitedBeforeKill: 0, killedHoldingLock: 0 };
      /** Files that killed logins left in the folder (conf's temporary files, lock claims…), by name. */
      const leftovers = new Set<string>();
      const recoveries: number[] = [];

      // Kills land inside the locked save (some aimed at it), before it and after it by
      // chance; should one of these not have happened after the planned rounds (a busy
      // machine shifts the timings), up to 50 more rounds give it its chance.
      let round = 0;
      const landedEverywhere = () => outcomes.killedHoldingLock > 0 && outcomes.old > 0 && outcomes.new > 0;
      for (; round < KILL_ROUNDS || (!landedEverywhere() && round < KILL_ROUNDS + 50); round++) {
        const before = storeOnDisk(dir, `before round ${round}`);
        // Mostly "main", alternating its two accounts; sometimes another profile.
        const target = round % 5 === 4 ? (round % 10 === 4 ? 'side-a' : 'side-b') : 'main';
        const old = before.profiles[target]?.credentials;
        const account = other(accountOf(old));
        // One round in three anywhere in the whole run (start-up, request, save, exit); one
        // in six the moment the login has taken the store's lock, one in six the moment the
        // store file itself changes (a store written in place would be caught half-written);
        // the others after the request has reached the service, across the time left to exit.
        const aims = ['whole', 'lock', 'store', 'whole', 'save', 'save'] as const;
        const aim = aims[round % aims.length]!;
        const roundStart = Date.now();

        const [args, options] = loginArgs(dir, target, account);
        const requested = nextRequest();
        const started = startKash(args, options);
        const closed = started.result.then(() => undefined);
        if (aim === 'whole') {
          await Promise.race([sleep(random(0, wholeRun * 1.1)), closed]);
        } else if (aim === 'lock') {
          await touched(lock, closed, () => existsSync(lock));
        } else if (aim === 'store') {
          await touched(join(dir, STORE), closed);
        } else {
          await Promise.race([
            requested.then((at) => sleep(Math.max(0, at + random(0, saveWindow * 1.2) - Date.now()))),
            closed,
          ]);
        }
        started.child.kill('SIGKILL');
        const run = await started.result;
        const label = `round ${round} (${aim}, profile ${target}, ${run.signal ?? `exit ${String(run.code)}`})`;
        if (run.signal === null) {
          // Too late to kill: it must have finished its login.
          expect(run.code, `${label}: ${run.stderr}`).toBe(0);
          outcomes.exitedBeforeKill++;
        } else {
          expect(run.signal, label).toBe('SIGKILL');
        }

        // The store is there, whole and valid; the target holds the old or the new
        // credentials, field for field; every other profile is untouched.
        expect(existsSync(join(dir, STORE)), `${label}: the store file is gone`).toBe(true);
        const after = storeOnDisk(dir, label);
        const now = after.profiles[target]?.credentials;
        const isOld = old !== undefined && JSON.stringify(now) === JSON.stringify(old);
        const isNew = isLoginOf(now, account, emulator.url, roundStart);
        expect(
          isOld || isNew,
          `${label}: ${JSON.stringify(now)} is neither the old ${JSON.stringify(old)} nor a login of ${account.login}`,
        ).toBe(true);
        if (run.signal === null) expect(isNew, `${label}: finished, but did not save`).toBe(true);
        outcomes[isNew ? 'new' : 'old']++;
        const { [target]: _t, ...othersBefore } = before.profiles;
        const { [target]: _a, ...othersAfter } = after.profiles;
        expect(othersAfter, `${label}: other profiles changed`).toEqual(othersBefore);

        // A lock left behind is whole: linked into place with its owner in it.
        const lockLeft = existsSync(lock);
        if (lockLeft) {
          expect(JSON.parse(readFileSync(lock, 'utf8')), `${label}: lock content`).toMatchObject({
            pid: started.child.pid,
            token: expect.stringMatching(/^[0-9a-f]{24}$/),
          });
          outcomes.killedHoldingLock++;
        }
        // Whatever else a kill leaves (a temporary copy of the store, a claim on the lock)
        // may hold credentials: it must not be readable by other users.
        for (const name of listDir(dir)) {
          if (name === STORE || name === `${STORE}.lock`) continue;
          leftovers.add(name);
          expect(statSync(join(dir, name)).mode & 0o077, `${label}: ${name} is open to other users`).toBe(0);
        }

        // After a kill that left the lock, and every few rounds, a login must get through
        // at once: whatever the killed process left must not block it.
        if (lockLeft || round % 5 === 0) {
          const probe = startKash(...loginArgs(dir, 'probe', round % 2 ? demo : shop2));
          const probed = await probe.result;
          const took = Date.now() - probe.startedAt;
          expect(probed.code, `${label}, login after it: ${probed.stderr}`).toBe(0);
          // Well below the 15 s after which a silent lock counts as stale, with room for a loaded machine.
          expect(took, `${label}: the login after it took ${took} ms`).toBeLessThan(6_000);
          recoveries.push(took);
          expect(existsSync(lock), `${label}: the login after it left the lock`).toBe(false);
          const recovered = storeOnDisk(dir, `${label}, after the login that followed`);
          expect(recovered.profiles[target]?.credentials, `${label}: the login after it changed ${target}`).toEqual(
            now,
          );
        }
      }

      // The kills did land inside the save: some while the store lock was held, some
      // leaving the old credentials, some the new.
      expect(outcomes.old, JSON.stringify(outcomes)).toBeGreaterThan(0);
      expect(outcomes.new, JSON.stringify(outcomes)).toBeGreaterThan(0);
      expect(outcomes.killedHoldingLock, JSON.stringify(outcomes)).toBeGreaterThan(0);

      // At the end, a normal login and whoami work.
      const final = await login(dir, 'main', shop2);
      expect(final.code, final.stderr).toBe(0);
      const whoami = await kash(dir, ['--profile', 'main', 'whoami', '--json']);
      expect(whoami.code, whoami.stderr).toBe(0);
      expect(JSON.parse(whoami.stdout)).toMatchObject({
        profile: 'main',
        source: 'store',
        shopId: '1337',
        login: shop2.login,
        method: 'password',
      });
      expect(existsSync(lock)).toBe(false);

      console.info(
        `kill -9 loop: ${round} rounds; a login takes ~${wholeRun} ms, ${saveWindow} ms at most after its request; ` +
          `outcomes ${JSON.stringify(outcomes)}; logins after a kill took at most ${Math.max(...recoveries)} ms; ` +
          `files left behind by killed logins: ${leftovers.size} (${[...leftovers]
            .map((name) => name.replace(/\d{6,}[0-9a-f]*/g, '<n>'))
            .filter((n, i, all) => all.indexOf(n) === i)
            .join(', ')})`,
      );
    },
    FULL ? 600_000 : 90_000,
  );
});

describe(`${CONTENDING_PROFILES * 5} simultaneous commands on one store`, () => {
  it(`logins (two accounts per profile) and logouts across ${CONTENDING_PROFILES} profiles: each profile ends as one of its own commands left it`, async () => {
    const dir = freshDir();
    // One emulator per profile: the base URL it saves tells whose command wrote it.
    const services = await Promise.all(Array.from({ length: CONTENDING_PROFILES }, () => startEmulator()));
    try {
      const profiles = services.map((service, i) => {
        const pair = [
          [demo, shop2],
          [shop2, legacy],
          [legacy, demo],
        ][i % 3]!;
        return { name: `p${i}`, service, accounts: pair as [PasswordAccount, PasswordAccount] };
      });
      type Command =
        | { profile: (typeof profiles)[number]; kind: 'login'; account: PasswordAccount }
        | { profile: (typeof profiles)[number]; kind: 'logout' };
      const commands: Command[] = profiles.flatMap((profile) => [
        { profile, kind: 'login' as const, account: profile.accounts[0] },
        { profile, kind: 'login' as const, account: profile.accounts[1] },
        { profile, kind: 'logout' as const },
        { profile, kind: 'login' as const, account: profile.accounts[0] },
        { profile, kind: 'login' as const, account: profile.accounts[1] },
      ]);
      // Shuffled, so that each profile's commands are interleaved with the others'.
      for (let i = commands.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [commands[i], commands[j]] = [commands[j]!, commands[i]!];
      }
      expect(commands).toHaveLength(CONTENDING_PROFILES * 5);

      const runs = await Promise.all(
        commands.map((command) =>
          command.kind === 'login'
            ? login(dir, command.profile.name, command.account, ['--json'], command.profile.service.url)
            : runKash(['--config-dir', dir, '--profile', command.profile.name, 'logout', '--json'], {
                env: { KASH_BASE_URL: command.profile.service.url },
                timeoutMs: 60_000,
              }),
        ),
      );
      runs.forEach((run, i) => {
        const command = commands[i]!;
        expect(run.code, `${command.kind} ${command.profile.name}: ${run.stderr}`).toBe(0);
      });

      const store = storeOnDisk(dir, `after ${commands.length} commands`);
      expect(
        Object.keys(store.profiles).every((name) => profiles.some((p) => p.name === name)),
        Object.keys(store.profiles).join(),
      ).toBe(true);
      for (const profile of profiles) {
        // Each login hit its own profile's service, once.
        expect(profile.service.requests.length, profile.name).toBe(4);
        const record = store.profiles[profile.name];
        const mine = commands
          .map((command, i) => ({ command, run: runs[i]! }))
          .filter(({ command }) => command.profile === profile);
        if (record === undefined) {
          // Logged out: a logout of this profile removed it.
          const removed = mine.filter(
            ({ command, run }) =>
              command.kind === 'logout' &&
              (JSON.parse(run.stdout) as { removed: string[] }).removed.includes(profile.name),
          );
          expect(removed, `${profile.name} is absent, yet no logout removed it`).toHaveLength(1);
          continue;
        }
        const saved = record.credentials;
        const account = profile.accounts.find((a) => isLoginOf(saved, a, profile.service.url));
        expect(
          account,
          `${profile.name} holds ${JSON.stringify(record)}, not a login of its own accounts against its own service`,
        ).toBeDefined();
        // Exactly what one of its own logins reported saving.
        const producedBy = mine.filter(({ command, run }) => {
          if (command.kind !== 'login' || command.account !== account) return false;
          const view = JSON.parse(run.stdout) as { obtainedAt: string; profile: string; baseUrl: string };
          return (
            view.profile === profile.name &&
            view.obtainedAt === saved!.obtainedAt &&
            view.baseUrl === profile.service.url
          );
        });
        expect(
          producedBy.length,
          `${profile.name}: no login of it reported saving ${JSON.stringify(saved)}`,
        ).toBeGreaterThan(0);
      }
      // Nothing left behind: no lock, no temporary file.
      expect(listDir(dir)).toEqual([STORE]);
    } finally {
      await Promise.all(services.map((service) => service.close()));
    }
  });
});

// ---------------------------------------------------------------------------------------
// Stores that cannot be written. Root ignores permission bits, so the folder is made
// genuinely read-only: a tmpfs remounted read-only (needs the power to mount), or the
// immutable attribute (chattr +i, needs the power to set it). A full disk is a tiny tmpfs.

function sh(command: string, args: string[]): { ok: boolean; output: string } {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return {
    ok: result.status === 0,
    output: `${result.error?.message ?? ''}${result.stdout ?? ''}${result.stderr ?? ''}`.trim(),
  };
}

/** Mounts a tmpfs at `dir` (created 0700) or says why it could not. */
function mountTmpfs(dir: string, size: string): { ok: boolean; output: string } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const mounted = sh('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir]);
  if (mounted.ok) {
    cleanups.push(() => {
      if (!sh('umount', [dir]).ok) sh('umount', ['-l', dir]);
    });
  }
  return mounted;
}

/** Whether writing in `dir` fails, as root: the test of a genuinely read-only folder. */
function refusesWrites(dir: string): boolean {
  for (const write of [() => writeFileSync(join(dir, '.probe'), 'x'), () => appendFileSync(join(dir, STORE), ' ')]) {
    try {
      write();
      return false;
    } catch {
      // refused, as wanted
    }
  }
  return true;
}

interface ReadOnly {
  dir: string;
  how: string;
}

/** A config folder, on a tmpfs when mount is permitted; `freeze` then makes it read-only. */
function writableFolder(): { dir: string; mounted: boolean; mountError: string } {
  const dir = freshDir();
  const mount = mountTmpfs(dir, '64k');
  return { dir, mounted: mount.ok, mountError: mount.output };
}

function freeze(folder: { dir: string; mounted: boolean; mountError: string }): ReadOnly {
  const { dir } = folder;
  const tried: string[] = [];
  if (folder.mounted) {
    const remount = sh('mount', ['-o', 'remount,ro', dir]);
    if (remount.ok && refusesWrites(dir)) return { dir, how: 'tmpfs remounted read-only' };
    tried.push(`remount,ro: ${remount.ok ? 'writes still succeed' : remount.output}`);
  } else {
    tried.push(`mount -t tmpfs: ${folder.mountError}`);
  }
  const targets = [join(dir, STORE), dir];
  const chattr = sh('chattr', ['+i', ...targets]);
  if (chattr.ok) cleanups.push(() => sh('chattr', ['-i', ...targets]));
  if (chattr.ok && refusesWrites(dir)) return { dir, how: 'chattr +i' };
  tried.push(`chattr +i: ${chattr.ok ? 'writes still succeed' : chattr.output}`);
  throw new Error(
    `no way to make a genuinely read-only folder on this machine (as uid ${process.getuid?.()}): ${tried.join('; ')}`,
  );
}

/** The store of the emulator's demo account logged in as "default" in `dir`; returns its bytes. */
function loggedIn(dir: string): Buffer {
  writeStore(dir, { default: { credentials: passwordCredentials(demo, emulator.url) } });
  return readFileSync(join(dir, STORE));
}

function expectStoreError(run: KashRun, dir: string): void {
  expect(run.code, run.stderr).toBe(6);
  expect(run.stdout).toBe('');
  const errors = run.stderr.split('\n').filter((line) => line.startsWith('error:'));
  expect(errors, run.stderr).toHaveLength(1);
  expect(errors[0]).toContain(join(dir, STORE));
}

async function expectWhoamiDemo(dir: string): Promise<void> {
  const whoami = await kash(dir, ['whoami', '--json']);
  expect(whoami.code, whoami.stderr).toBe(0);
  expect(JSON.parse(whoami.stdout)).toMatchObject({
    profile: 'default',
    source: 'store',
    shopId: '42',
    login: demo.login,
    method: 'password',
  });
}

describe('a store that cannot be written', () => {
  const READ_ONLY = [
    { mechanism: 'a tmpfs remounted read-only', needs: 'mount', folder: writableFolder },
    {
      mechanism: 'the immutable attribute (chattr +i) on a folder of the usual filesystem',
      needs: 'chattr',
      folder: () => ({ dir: freshDir(), mounted: false, mountError: 'not tried for this case' }),
    },
  ] as const;
  for (const { mechanism, needs, folder: makeFolder } of READ_ONLY)
    requires(needs).it(
      `a read-only folder, by ${mechanism}: login is exit 6 naming the file, the credentials stay, whoami and a --no-save login still work`,
      async () => {
        const folder = makeFolder();
        const saved = loggedIn(folder.dir);
        const before = storeSnapshot(folder.dir);
        const { dir, how } = freeze(folder);

        const [other, sameProfile, logout] = await Promise.all([
          login(dir, 'other', shop2),
          login(dir, 'default', shop2),
          kash(dir, ['logout']),
        ]);
        expectStoreError(other, dir);
        expectStoreError(sameProfile, dir);
        expectStoreError(logout, dir);
        // A code request could not be remembered: it stops before the email goes out.
        const mails = emulator.outbox.length;
        expectStoreError(await kash(dir, ['otp', 'request', '--email', 'one@kash.click']), dir);
        expect(emulator.outbox.length).toBe(mails);
        expect(readFileSync(join(dir, STORE)).equals(saved), how).toBe(true);
        expect(storeSnapshot(dir), how).toEqual(before);
        await expectWhoamiDemo(dir);

        // Nothing to write, so nothing in the way.
        const noSave = await login(dir, 'default', shop2, ['--no-save', '--format', 'json']);
        expect(noSave.code, noSave.stderr).toBe(0);
        expect(JSON.parse(noSave.stdout)).toEqual({ KASH_APIKEY: shop2.apiKey, KASH_SHOPID: '1337' });
      },
    );

  /** A tmpfs of `size` holding a demo login, then a filler so that `freePages` 4 KiB pages remain. */
  function nearlyFull(size: string, freePages: number): { dir: string; saved: Buffer } {
    const dir = freshDir();
    const mount = mountTmpfs(dir, size);
    if (!mount.ok)
      throw new Error(
        `a full disk needs a tiny tmpfs, and mount failed (as uid ${process.getuid?.()}): ${mount.output}`,
      );
    const saved = loggedIn(dir);
    const filler = join(dir, 'filler');
    const free = () => {
      const stats = statfsSync(dir);
      return stats.bavail * stats.bsize;
    };
    // Byte by kilobyte until only `freePages` pages are left: a full disk holds no page to spare.
    while (free() > freePages * 4096) {
      try {
        appendFileSync(filler, Buffer.alloc(1024, 'f'));
      } catch {
        break;
      }
    }
    expect(free(), 'bytes free on the tmpfs').toBe(freePages * 4096);
    return { dir, saved };
  }

  requires('mount').it('a full disk: login is exit 6 naming the file, and the old store is unchanged', async () => {
    const { dir, saved } = nearlyFull('8k', 0);
    const run = await login(dir, 'other', shop2);
    expectStoreError(run, dir);
    expect(readFileSync(join(dir, STORE)).equals(saved)).toBe(true);
    await expectWhoamiDemo(dir);
  });

  requires('mount').it('a full disk: a failed login leaves the folder as it was (no stray file)', async () => {
    const { dir } = nearlyFull('8k', 0);
    const before = storeSnapshot(dir);
    const run = await login(dir, 'other', shop2);
    expect(run.code, run.stderr).toBe(6);
    expect(listDir(dir), 'files in the config folder after a login that failed on a full disk').toEqual(
      Object.keys(before).sort(),
    );
    expect(storeSnapshot(dir)).toEqual(before);
  });

  requires('mount').it(
    'room for the lock but not for the new store: exit 6, the old store unchanged, no temporary file left',
    async () => {
      const { dir, saved } = nearlyFull('12k', 1);
      const before = storeSnapshot(dir);
      const run = await login(dir, 'default', shop2);
      expectStoreError(run, dir);
      expect(readFileSync(join(dir, STORE)).equals(saved)).toBe(true);
      expect(storeSnapshot(dir)).toEqual(before);
      expect(readdirSync(dir).sort()).toEqual(['credentials.json', 'filler']);
      await expectWhoamiDemo(dir);
    },
  );
});
