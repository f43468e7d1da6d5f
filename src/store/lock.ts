import { linkSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const WAIT_MS = 15_000;
/** A lock without a readable pid is not ours to judge until it is this old. */
const UNCLAIMED_MS = 5_000;

/** Lock files held by this process, removed on any exit so a Ctrl-C leaves none behind. */
const held = new Set<string>();
let cleanupRegistered = false;

function releaseAllOnExit(): void {
  if (cleanupRegistered) return;
  cleanupRegistered = true;
  process.once('exit', () => {
    for (const path of held) {
      try {
        unlinkSync(path);
      } catch {
        // Already gone: nothing to clean.
      }
    }
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const ownerOf = (path: string) => Number.parseInt(readFileSync(path, 'utf8'), 10);

function isStale(path: string): boolean {
  let owner: number;
  let age: number;
  try {
    age = Date.now() - statSync(path).mtimeMs;
    owner = ownerOf(path);
  } catch {
    return false;
  }
  // Our own pid on a lock we do not hold was left by an earlier process that had it (pid reuse in containers).
  return Number.isNaN(owner) ? age > UNCLAIMED_MS : owner === process.pid ? !held.has(path) : !alive(owner);
}

/**
 * A lock left by a process that died (kill -9) is taken over. Taking over is itself done
 * under a second lock, so two processes never both decide to remove the same lock: the
 * one holding it looks again, and removes the lock only if it is still the dead one's.
 * (A lock cannot change hands meanwhile: only its owner, dead here, or a taker removes it.)
 */
function removeIfStale(path: string): void {
  if (!isStale(path)) return;
  const guard = `${path}.takeover`;
  try {
    writeFileSync(guard, String(process.pid), { flag: 'wx', mode: 0o600 });
  } catch {
    // Another process is taking over; a guard it left by dying is cleared like a lock.
    if (isStale(guard)) rmSync(guard, { force: true });
    return;
  }
  try {
    if (isStale(path)) rmSync(path, { force: true });
  } finally {
    rmSync(guard, { force: true });
  }
}

/** Claims on the lock (`<lock>.<pid>`) whose process died between writing and linking them. */
export function removeDeadClaims(lockPath: string): void {
  const claim = new RegExp(`^${basename(lockPath).replace(/\./g, '\\.')}\\.(\\d+)$`);
  for (const name of readdirSync(dirname(lockPath))) {
    const owner = claim.exec(name)?.[1];
    if (owner !== undefined && !alive(Number(owner))) rmSync(join(dirname(lockPath), name), { force: true });
  }
}

/**
 * Serialises read-modify-write of the store between kash processes, so concurrent
 * logins to different profiles each keep their own.
 */
export async function withLock<T>(path: string, work: () => T | Promise<T>): Promise<T> {
  releaseAllOnExit();
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    // Written under a name of our own, then linked into place: the lock never exists without its pid.
    const claim = `${path}.${process.pid}`;
    try {
      try {
        writeFileSync(claim, String(process.pid), { mode: 0o600 });
        linkSync(claim, path);
      } finally {
        // Also when the write failed half-way (a full disk): no claim is left behind.
        rmSync(claim, { force: true });
      }
      held.add(path);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      removeIfStale(path);
      if (Date.now() > deadline) {
        throw Object.assign(new Error(`another kash process holds ${path}`), { code: 'ELOCKED' });
      }
      await sleep(10 + Math.random() * 40);
    }
  }
  try {
    return await work();
  } finally {
    held.delete(path);
    rmSync(path, { force: true });
  }
}
