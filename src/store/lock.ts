import { closeSync, linkSync, readdirSync, readFileSync, readlinkSync, utimesSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { claimName, isClaimOn, ownerToken, TAKEOVER_SUFFIX } from './paths.js';
import { openRegular, readOpen, removeIfThere, writeNewFile } from './safe-file.js';

/**
 * How long things take. A holder refreshes its lock every `refreshMs`; a waiter that has
 * seen a lock unchanged for `staleMs` on its own clock takes it over; after `waitMs` it
 * gives up. The store folder may be shared by containers or machines, where process ids
 * mean nothing and clocks disagree: only what a waiter saw itself, and deaths it can
 * prove, decide.
 */
export interface LockTimings {
  refreshMs: number;
  staleMs: number;
  waitMs: number;
}

export const LOCK_TIMINGS: LockTimings = { refreshMs: 2_000, staleMs: 15_000, waitMs: 30_000 };

/** Who holds a lock, in terms that stay true beyond one PID namespace. */
interface Owner {
  token: string;
  pid: number;
  /** Linux: the boot id, the PID namespace and the process's start time, which together name one process. */
  boot?: string;
  pidns?: string;
  start?: string;
  host: string;
}

const MAX_LOCK_BYTES = 64 * 1024;

function startTime(stat: string): string | undefined {
  // The command name, in parentheses, may hold spaces and parentheses itself: fields count from the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

let self: Omit<Owner, 'token'> | undefined;
/** Whether /proc is our own PID namespace's, so that a pid read there is one of ours. */
let procIsOurs = false;

/** gethostname(), which Linux shows in /proc too: node:os is not in Node's start-up snapshot (0.6–0.8 M instructions). */
function hostName(): string {
  if (process.platform === 'linux') {
    try {
      return readFileSync('/proc/sys/kernel/hostname', 'utf8').trim();
    } catch {
      // A /proc without it: ask Node.
    }
  }
  return process.getBuiltinModule('node:os').hostname();
}

function identity(): Omit<Owner, 'token'> {
  if (self) return self;
  self = { pid: process.pid, host: hostName() };
  if (process.platform === 'linux') {
    try {
      procIsOurs = readlinkSync('/proc/self') === String(process.pid);
      self.boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
      self.pidns = readlinkSync('/proc/self/ns/pid');
      self.start = startTime(readFileSync('/proc/self/stat', 'utf8'));
    } catch {
      procIsOurs = false;
    }
  }
  return self;
}

/**
 * Known dead: on this boot and in this PID namespace, its pid is gone or belongs to a
 * process started at another time. Anything else (another container, another machine,
 * no /proc) is never judged by its pid.
 */
function provablyDead(owner: Owner): boolean {
  const me = identity();
  if (me.boot !== undefined) {
    if (!procIsOurs || owner.boot !== me.boot || owner.pidns !== me.pidns || owner.start === undefined) return false;
    try {
      return startTime(readFileSync(`/proc/${owner.pid}/stat`, 'utf8')) !== owner.start;
    } catch {
      return true;
    }
  }
  // Without /proc (macOS, Windows): the same host name, and no such process.
  if (owner.boot !== undefined || owner.host !== me.host) return false;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function parseOwner(bytes: Buffer): Owner | undefined {
  try {
    const owner = JSON.parse(bytes.toString('utf8')) as Owner;
    return typeof owner.token === 'string' && Number.isInteger(owner.pid) ? owner : undefined;
  } catch {
    return undefined;
  }
}

/** A lock file as a waiter sees it: who holds it, and a signature that changes at each refresh. */
function look(path: string): { owner: Owner | undefined; signature: string } | undefined {
  const file = openRegular(path, MAX_LOCK_BYTES);
  if (!file) return undefined;
  try {
    const { ino, mtimeMs, ctimeMs, size } = file.stat;
    return {
      owner: parseOwner(readOpen(file, path, MAX_LOCK_BYTES)),
      signature: `${ino}:${mtimeMs}:${ctimeMs}:${size}`,
    };
  } finally {
    closeSync(file.fd);
  }
}

/** When a waiter last saw each file change, on its own monotonic clock. */
class Watch {
  readonly #seen = new Map<string, { signature: string; since: number }>();

  /** How long, by our clock, `path` has shown `signature`. */
  unchangedFor(path: string, signature: string): number {
    const now = performance.now();
    const last = this.#seen.get(path);
    if (last?.signature === signature) return now - last.since;
    this.#seen.set(path, { signature, since: now });
    return 0;
  }
}

/** Tokens of the locks this process holds, by path; released on any exit, so a Ctrl-C leaves none. */
const held = new Map<string, string>();
let cleanupRegistered = false;

function release(path: string, token: string): void {
  held.delete(path);
  try {
    if (look(path)?.owner?.token === token) removeIfThere(path);
  } catch {
    // Gone, or no longer a file of ours: nothing to release.
  }
}

function releaseAllOnExit(): void {
  if (cleanupRegistered) return;
  cleanupRegistered = true;
  process.once('exit', () => {
    for (const [path, token] of [...held]) release(path, token);
  });
}

export class LockBusy extends Error {
  readonly code = 'ELOCKED';
  constructor(path: string) {
    super(`another kash process holds ${path}`);
    this.name = 'LockBusy';
  }
}

export class LockLost extends Error {
  readonly code = 'ELOCKLOST';
  constructor(path: string) {
    super(`the lock ${path} was taken over while held`);
    this.name = 'LockLost';
  }
}

/** What the work done under a lock can ask of it. */
export interface HeldLock {
  /** Throws unless the lock is still ours: checked just before the rename that publishes a save. */
  assertHeld(): void;
}

/**
 * Takes a stale lock away, under a guard so that two waiters never both remove it: the
 * one holding the guard looks again, and removes the lock only if it is still the one
 * judged stale. A guard left by a taker that died is judged like a lock.
 */
function takeOver(path: string, signature: string, watch: Watch, timings: LockTimings): void {
  const guard = path + TAKEOVER_SUFFIX;
  const me = { ...identity(), token: ownerToken() };
  try {
    writeNewFile(guard, JSON.stringify(me));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const other = look(guard);
    if (
      other &&
      ((other.owner && provablyDead(other.owner)) || watch.unchangedFor(guard, other.signature) > timings.staleMs)
    ) {
      removeIfThere(guard);
    }
    return;
  }
  try {
    if (look(path)?.signature === signature) removeIfThere(path);
  } finally {
    removeIfThere(guard);
  }
}

/** Claims (`<lock>.<token>`) whose writer died between writing and linking them; never another's live one. */
export function removeDeadClaims(lockPath: string): void {
  const lock = basename(lockPath);
  for (const name of readdirSync(dirname(lockPath))) {
    if (!isClaimOn(lock, name)) continue;
    const path = join(dirname(lockPath), name);
    try {
      const owner = look(path)?.owner;
      if (owner && provablyDead(owner)) removeIfThere(path);
    } catch {
      // Not a file we could judge: left alone.
    }
  }
}

/**
 * Serialises read-modify-write of the store between kash processes, also across
 * containers and machines sharing the folder, so concurrent logins each keep their own.
 * A lock in place that is not a regular file is refused (UnsafeFile), never waited on.
 */
export async function withLock<T>(
  path: string,
  work: (lock: HeldLock) => T | Promise<T>,
  timings: LockTimings = LOCK_TIMINGS,
): Promise<T> {
  releaseAllOnExit();
  const watch = new Watch();
  const started = performance.now();
  const owner: Owner = { ...identity(), token: ownerToken() };
  for (;;) {
    // Written under a name of its own, then linked into place: the lock never exists without its owner.
    const claim = claimName(path, owner.token);
    try {
      try {
        writeNewFile(claim, JSON.stringify(owner));
        linkSync(claim, path);
      } finally {
        // Also when the write failed half-way (a full disk): no claim is left behind.
        removeIfThere(claim);
      }
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const current = look(path);
    if (current) {
      const quiet = watch.unchangedFor(path, current.signature);
      if ((current.owner && provablyDead(current.owner)) || quiet > timings.staleMs) {
        takeOver(path, current.signature, watch, timings);
        continue;
      }
    }
    if (performance.now() - started > timings.waitMs) throw new LockBusy(path);
    // A plain timer: node:timers/promises is not in Node's start-up snapshot, and every read command loads this file.
    await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 40));
  }
  held.set(path, owner.token);
  // Seen changing, a live holder is never taken for dead, however slow its work.
  const refresh = setInterval(() => {
    const now = new Date();
    try {
      utimesSync(path, now, now);
    } catch {
      // Taken over or removed: assertHeld says so before anything is published.
    }
  }, timings.refreshMs);
  refresh.unref();
  const lock: HeldLock = {
    assertHeld() {
      if (look(path)?.owner?.token !== owner.token) throw new LockLost(path);
    },
  };
  try {
    return await work(lock);
  } finally {
    clearInterval(refresh);
    release(path, owner.token);
  }
}
