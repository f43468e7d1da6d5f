import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, readdirSync, type Stats, statSync } from 'node:fs';
import { isKashFile } from './paths.js';
import { shownMode } from './safe-file.js';

export class FolderRefused extends Error {
  readonly hint: string;
  constructor(message: string, hint: string) {
    super(message);
    this.name = 'FolderRefused';
    this.hint = hint;
  }
}

const othersCanWrite = (stat: Stats) => process.platform !== 'win32' && (stat.mode & 0o022) !== 0;

const writableWarning = (dir: string, stat: Stats) =>
  `the store folder ${dir} can be written by other users (mode ${shownMode(stat.mode)}): they could replace the store`;

/**
 * Before reading: the folder may be reached through links, and is never changed; one
 * that others can write to is read with a warning. Undefined when it does not exist.
 */
export function checkFolderForReading(dir: string, warn: (message: string) => void): Stats | undefined {
  let stat: Stats;
  try {
    stat = statSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (!stat.isDirectory())
    throw Object.assign(new Error(`${dir} is not a directory`), { code: 'ENOTDIR', syscall: 'stat' });
  if (othersCanWrite(stat)) warn(writableWarning(dir, stat));
  return stat;
}

/**
 * A folder kash may take for its own: one of the user's, not shared by design (the sticky
 * bit is how /tmp-like folders say they are), holding nothing but kash's files.
 */
function isKashFolder(dir: string, stat: Stats): boolean {
  if ((stat.mode & 0o1000) !== 0) return false;
  if (process.getuid && stat.uid !== process.getuid()) return false;
  return readdirSync(dir).every(isKashFile);
}

/**
 * Before saving: a folder kash creates is 0700. An existing one is tightened only when it
 * holds nothing but kash's own files (never /tmp, a project or a home folder), and one
 * that others can still write to is refused.
 */
export function prepareFolderForSaving(dir: string, warn: (message: string) => void): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = checkFolderForReading(dir, () => undefined);
  if (!stat || process.platform === 'win32' || (stat.mode & 0o077) === 0) return;
  if (isKashFolder(dir, stat)) {
    chmodSync(dir, 0o700);
    warn(`the store folder ${dir} was open to other users (mode ${shownMode(stat.mode)}); tightened it to 0700`);
    return;
  }
  if (othersCanWrite(stat)) {
    throw new FolderRefused(
      `refusing to save in ${dir}: ${writableWarning(dir, stat).replace(/^the store folder \S+ /, 'it ')}`,
      'Use a folder of your own: --config-dir / KASH_CONFIG_DIR (kash creates it, mode 0700).',
    );
  }
}

/** So that a rename is on disk before kash says "saved"; Windows cannot open a folder for it. */
export function syncFolder(dir: string): void {
  if (process.platform === 'win32') return;
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
