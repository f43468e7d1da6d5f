import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  lstatSync,
  openSync,
  readSync,
  type Stats,
  unlinkSync,
  writeSync,
} from 'node:fs';

/** Larger than any store kash writes by far; a file past it is refused before it is read. */
export const MAX_STORE_BYTES = 1024 * 1024;

/** A mode as chmod takes it, the sticky, setuid and setgid bits included: 1777, 0644. */
export const shownMode = (mode: number) => (mode & 0o7777).toString(8).padStart(4, '0');

/** A store or lock path that holds something kash must not follow, read, chmod, replace or copy. */
export class UnsafeFile extends Error {
  readonly path: string;
  readonly what: string;
  constructor(path: string, what: string) {
    super(`${path} is ${what}`);
    this.name = 'UnsafeFile';
    this.path = path;
    this.what = what;
  }
}

// Windows has none of these; its lstat check stands alone there.
const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL } = constants;
const NOFOLLOW = constants.O_NOFOLLOW ?? 0;
/** O_NONBLOCK: a FIFO opens at once instead of waiting for a writer; O_NOCTTY: a terminal never becomes ours. */
const READ_FLAGS = O_RDONLY | NOFOLLOW | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

function kindOf(stat: Stats): string | undefined {
  if (stat.isFile()) return undefined;
  if (stat.isSymbolicLink()) return 'a symbolic link';
  if (stat.isFIFO()) return 'a FIFO (named pipe)';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  if (stat.isDirectory()) return 'a folder';
  return 'not a regular file';
}

/** An open regular file, checked to be the one that was looked at. Close it with `closeSync(file.fd)`. */
export interface OpenFile {
  fd: number;
  stat: Stats;
}

/**
 * Opens `path` for reading only if it is a regular file of at most `limit` bytes, without
 * following a link: lstat (so a device or FIFO is never opened), then open with O_NOFOLLOW,
 * then fstat the descriptor. Another kash renaming a new store or lock into place in
 * between is ordinary, so a different regular file is accepted; anything else swapped in
 * is caught. Undefined when there is no file.
 */
export function openRegular(path: string, limit = MAX_STORE_BYTES): OpenFile | undefined {
  let seen: Stats;
  try {
    seen = lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const kind = kindOf(seen);
  if (kind) throw new UnsafeFile(path, kind);
  let fd: number;
  try {
    fd = openSync(path, READ_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new UnsafeFile(path, 'a symbolic link');
    if (code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new UnsafeFile(path, `${kindOf(stat)} swapped in while kash opened it`);
    if (stat.size > limit) throw new UnsafeFile(path, `over ${limit / 1024} KiB (${stat.size} bytes)`);
    return { fd, stat };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/** Everything in the file, read through its descriptor, and never more than `limit` bytes. */
export function readOpen(file: OpenFile, path: string, limit = MAX_STORE_BYTES): Buffer {
  const buffer = Buffer.alloc(Math.min(file.stat.size, limit) + 1);
  let length = 0;
  for (;;) {
    const read = readSync(file.fd, buffer, length, buffer.length - length, length);
    if (read === 0) break;
    length += read;
    // It grew since fstat: no more than the limit is read, ever.
    if (length === buffer.length) {
      if (length > limit) throw new UnsafeFile(path, `over ${limit / 1024} KiB`);
      break;
    }
  }
  return buffer.subarray(0, length);
}

/** A new file of our own (0600, never an existing one, never through a link), written and synced. */
export function writeNewFile(path: string, bytes: Uint8Array | string): void {
  const fd = openSync(path, O_WRONLY | O_CREAT | O_EXCL | NOFOLLOW, 0o600);
  try {
    const data = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
    for (let done = 0; done < data.length; ) done += writeSync(fd, data, done, data.length - done);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Removes a file kash made, if it is still there: rmSync's `force` without rmSync, which
 * loads Node's whole recursive remover for it (up to 2 M instructions on Node 20 and 22).
 */
export function removeIfThere(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
