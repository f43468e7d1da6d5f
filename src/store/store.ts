import { closeSync, fchmodSync, lstatSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode, KashError } from '../errors.js';
import { checkFolderForReading, FolderRefused, prepareFolderForSaving, syncFolder } from './folder.js';
import {
  type HeldLock,
  LOCK_TIMINGS,
  LockBusy,
  LockLost,
  type LockTimings,
  removeDeadClaims,
  withLock,
} from './lock.js';
import { copyName, isCopy, joinNames, LOCK_SUFFIX, STORE_FILE_NAME, setAsideName } from './paths.js';
import { emptyStore, isProfileName, type Parsed, parseStore, STORE_VERSION, type StoreData } from './records.js';
import { openRegular, readOpen, removeIfThere, shownMode, UnsafeFile, writeNewFile } from './safe-file.js';

/** The code of a file-system error (one with a syscall); anything else is not the store's fault. */
const errnoCode = (error: unknown) => {
  const failure = error as NodeJS.ErrnoException | null;
  return typeof failure?.code === 'string' && typeof failure.syscall === 'string' ? failure.code : undefined;
};

const FAILURE_HINTS: Record<string, string> = {
  ENOSPC: 'The disk is full: free some space and try again.',
  EDQUOT: 'Your disk quota is used up: free some space and try again.',
  EROFS: 'That file system is read-only; use another folder with --config-dir / KASH_CONFIG_DIR.',
};
const storeHint = 'Check the permissions of that path, or use another folder with --config-dir / KASH_CONFIG_DIR.';
/** What a new profile may add to the store, at most: the trial write makes room for it. */
const GROWTH_MARGIN = 2048;
/** A file takes whole pages (on tmpfs, of memory): two files need the pages of each. */
const roundUpToPage = (size: number) => Math.ceil(size / 4096) * 4096;

/** A store this kash must not touch: never set aside, never overwritten, never guessed at. */
class NewerStore extends KashError {}

type Loaded = { data: StoreData; size: number } | { corrupt: string; bytes: Buffer };

/**
 * The credential store: one JSON file of profiles in a folder of its own. Reads never
 * follow a link, never wait on a FIFO and never read more than 1 MiB; writes happen under
 * a lock that holds across containers, atomically, into a file of kash's own.
 */
export class CredentialStore {
  readonly dir: string;
  readonly file: string;
  readonly #warn: (message: string) => void;
  readonly #timings: LockTimings;
  #warnedFolder = false;

  constructor(dir: string, warn: (message: string) => void, timings: LockTimings = LOCK_TIMINGS) {
    this.dir = dir;
    this.file = joinNames(dir, STORE_FILE_NAME);
    this.#warn = warn;
    this.#timings = timings;
  }

  get lockFile(): string {
    return `${this.file}${LOCK_SUFFIX}`;
  }

  /**
   * Proves a save can work before a login asks the service for credentials that could
   * then not be kept: holding the lock, a file as large as the new store will be is
   * written, synced and removed in the folder. A full disk, a quota, a read-only file
   * system or a folder it may not write to fails here, with nothing sent.
   */
  async proveSaveable(): Promise<void> {
    await this.#locked(() => {
      const loaded = this.#load();
      // A corrupt store is copied aside before the new one is written: room for both.
      const needed =
        'corrupt' in loaded ? roundUpToPage(loaded.bytes.length) + GROWTH_MARGIN : loaded.size + GROWTH_MARGIN;
      const trial = copyName(this.file, 'trial');
      try {
        writeNewFile(trial, Buffer.alloc(needed, 0x20));
      } finally {
        removeIfThere(trial);
      }
    });
  }

  /** The store as saved; empty when there is none yet. A corrupt file is exit 6, never ignored. */
  read(): StoreData {
    try {
      const loaded = this.#load({ warnFolder: true });
      if ('corrupt' in loaded) throw this.#corrupt(loaded.corrupt);
      return loaded.data;
    } catch (error) {
      throw this.#storeError('could not read', error);
    }
  }

  /**
   * The profile `kash switch` made the default, if any. A store that cannot be read has
   * none here: the command that then reads it says what is wrong with it, and a login
   * can still set a corrupt one aside.
   */
  defaultProfile(): string | undefined {
    try {
      const name = this.read().default;
      return name !== undefined && isProfileName(name) ? name : undefined;
    } catch (error) {
      if (error instanceof NewerStore) throw error;
      return undefined;
    }
  }

  /**
   * Applies `change` to the freshest store and saves it atomically. With `setAsideCorrupt`
   * (a login), a corrupt file is first copied aside, byte for byte, rather than blocking
   * the new credentials; the copy stays only if the new store is saved.
   */
  async update(change: (data: StoreData) => void, options: { setAsideCorrupt?: boolean } = {}): Promise<StoreData> {
    return this.#locked((lock) => {
      removeLeftovers(this.dir);
      removeDeadClaims(this.lockFile);
      const loaded = this.#load();
      if ('corrupt' in loaded && !options.setAsideCorrupt) throw this.#corrupt(loaded.corrupt);
      const data = 'data' in loaded ? loaded.data : emptyStore();
      change(data);
      let aside: string | undefined;
      if ('corrupt' in loaded) {
        aside = setAsideName(this.file);
        writeNewFile(aside, loaded.bytes);
      }
      try {
        this.#write(data, lock);
      } catch (error) {
        if (aside) removeIfThere(aside);
        throw error;
      }
      if (aside && 'corrupt' in loaded) {
        this.#warn(`the credential store was corrupt (${loaded.corrupt}); kept a copy as ${aside} and saved afresh`);
      }
      return data;
    });
  }

  /** The folder made ready, then `work` under the lock; every failure on the way is exit 6. */
  async #locked<T>(work: (lock: HeldLock) => T): Promise<T> {
    try {
      prepareFolderForSaving(this.dir, this.#warn);
      return await withLock(this.lockFile, work, this.#timings);
    } catch (error) {
      throw this.#storeError('could not save to', error);
    }
  }

  #load({ warnFolder = false } = {}): Loaded {
    checkFolderForReading(this.dir, (message) => {
      if (!warnFolder || this.#warnedFolder) return;
      this.#warnedFolder = true;
      this.#warn(message);
    });
    const file = openRegular(this.file);
    if (!file) return { data: emptyStore(), size: 0 };
    let bytes: Buffer;
    try {
      this.#tighten(file.fd, file.stat.mode);
      bytes = readOpen(file, this.file);
    } finally {
      closeSync(file.fd);
    }
    let parsed: Parsed;
    try {
      parsed = parseStore(JSON.parse(bytes.toString('utf8')));
    } catch {
      return { corrupt: 'not valid JSON', bytes };
    }
    if ('newer' in parsed) {
      throw new NewerStore(
        ExitCode.store,
        `the credential store ${this.file} was written by a newer kash (format ${parsed.newer}; this one knows ${STORE_VERSION})`,
        { hint: 'Upgrade kash to use it; the file was left exactly as it is.' },
      );
    }
    return 'corrupt' in parsed ? { corrupt: parsed.corrupt, bytes } : { data: parsed.data, size: bytes.length };
  }

  /** The contract's 0600 file; a looser one was exposed, so say so. Through the descriptor: never a link's target. */
  #tighten(fd: number, mode: number): void {
    if (process.platform === 'win32' || (mode & 0o077) === 0) return;
    const shown = shownMode(mode);
    try {
      fchmodSync(fd, 0o600);
      this.#warn(`the store file ${this.file} was open to other users (mode ${shown}); tightened it to 0600`);
    } catch {
      this.#warn(`the store file ${this.file} is open to other users (mode ${shown}); run: chmod 0600 ${this.file}`);
    }
  }

  /**
   * Atomic: a new file of our own (0600, our owner: never the old file's), written and
   * synced, then renamed over the store, then the folder synced so the rename survives a
   * crash. A reader sees the old store or the new one, never a part.
   */
  #write(data: StoreData, lock: HeldLock): void {
    const temporary = copyName(this.file, 'tmp');
    try {
      writeNewFile(temporary, `${JSON.stringify(data, null, '\t')}\n`);
      // What stands at the store's name must still be a file, and the lock still ours.
      openRegularCheck(this.file);
      lock.assertHeld();
      renameSync(temporary, this.file);
    } catch (error) {
      removeIfThere(temporary);
      throw error;
    }
    syncFolder(this.dir);
  }

  #corrupt(reason: string): KashError {
    return new KashError(ExitCode.store, `the credential store ${this.file} is corrupt: ${reason}`, {
      hint: 'Run `kash login` to set it aside (a copy is kept) and save afresh, or repair the file by hand.',
    });
  }

  /** A KashError or a bug passes through; a file-system refusal or failure becomes exit 6. */
  #storeError(doing: string, error: unknown): unknown {
    if (error instanceof KashError) return error;
    if (error instanceof UnsafeFile) {
      const what = error.path === this.file ? 'the credential store' : 'the lock of the credential store';
      return new KashError(
        ExitCode.store,
        `${what} ${error.path} is ${error.what}; kash never follows, reads or replaces one`,
        {
          hint: 'Move it away, then run kash again (or use another folder with --config-dir / KASH_CONFIG_DIR).',
          cause: error,
        },
      );
    }
    if (error instanceof FolderRefused)
      return new KashError(ExitCode.store, error.message, { hint: error.hint, cause: error });
    if (error instanceof LockBusy) {
      return new KashError(ExitCode.store, `the credential store ${this.file} is busy: another kash is saving`, {
        hint: `Try again; if no other kash is running anywhere that shares this folder, remove ${this.lockFile}.`,
        cause: error,
      });
    }
    if (error instanceof LockLost) {
      return new KashError(
        ExitCode.store,
        `another kash took over the lock of ${this.file} while saving; nothing was saved`,
        {
          hint: 'Try again.',
          cause: error,
        },
      );
    }
    const code = errnoCode(error);
    if (code === undefined) return error;
    return new KashError(ExitCode.store, `${doing} the credential store ${this.file} (${code})`, {
      hint: FAILURE_HINTS[code] ?? storeHint,
      cause: error,
    });
  }
}

/** Refuses (UnsafeFile) anything but a regular file or nothing at `path`, opening nothing. */
function openRegularCheck(path: string): void {
  const file = openRegular(path);
  if (file) closeSync(file.fd);
}

/**
 * What a kash killed mid-save can leave: its temporary copy of the store (API keys and
 * all) and its trial file. Called with the lock held, when no live kash can be writing one.
 */
function removeLeftovers(dir: string): void {
  for (const name of readdirSync(dir)) if (isCopy(name)) removeIfThere(join(dir, name));
}

/**
 * The saved profile names, for shell completion: it never writes, tightens or warns, and
 * never fails or waits; a store that is missing, unreadable, unsafe or corrupt has none.
 */
export function peekProfileNames(dir: string): string[] {
  try {
    const path = joinNames(dir, STORE_FILE_NAME);
    if (!lstatSync(path).isFile()) return [];
    const file = openRegular(path);
    if (!file) return [];
    try {
      const parsed = parseStore(JSON.parse(readOpen(file, path).toString('utf8')));
      return 'data' in parsed ? Object.keys(parsed.data.profiles) : [];
    } finally {
      closeSync(file.fd);
    }
  } catch {
    return [];
  }
}
