import {
  chmodSync,
  closeSync,
  constants,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ExitCode, KashError } from '../errors.js';
import { removeDeadClaims, withLock } from './lock.js';
import { STORE_FILE_NAME } from './paths.js';
import { emptyStore, type StoreData, storeProblem } from './records.js';

type Loaded = { data: StoreData } | { corrupt: string };

/** The code of a file-system error (one with a syscall); anything else is not the store's fault. */
const errnoCode = (error: unknown) => {
  const failure = error as NodeJS.ErrnoException | null;
  return typeof failure?.code === 'string' && (typeof failure.syscall === 'string' || failure.code === 'ELOCKED')
    ? failure.code
    : undefined;
};
const storeHint = 'Check the permissions of that path, or use another folder with --config-dir / KASH_CONFIG_DIR.';
const octal = (mode: number) => (mode & 0o777).toString(8).padStart(4, '0');

/** So that a rename is on disk before kash says "saved"; Windows cannot open a folder for it. */
function syncFolder(dir: string): void {
  if (process.platform === 'win32') return;
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * What a kash killed mid-save can leave beside the store: its temporary copy of the
 * store, API keys and all. Called with the lock held, when no live kash can be writing one.
 */
function removeTemporaryCopies(storeFile: string): void {
  const temporary = `${basename(storeFile)}.tmp-`;
  for (const name of readdirSync(dirname(storeFile))) {
    if (name.startsWith(temporary)) rmSync(join(dirname(storeFile), name), { force: true });
  }
}

/**
 * The credential store: one JSON file of profiles, read and written with plain fs (the
 * print path, `whoami` and `env`, stays light); writes happen under a lock, atomically.
 */
export class CredentialStore {
  readonly dir: string;
  readonly file: string;
  readonly #warn: (message: string) => void;

  constructor(dir: string, warn: (message: string) => void) {
    this.dir = dir;
    this.file = join(dir, STORE_FILE_NAME);
    this.#warn = warn;
  }

  get #lockFile(): string {
    return `${this.file}.lock`;
  }

  /**
   * Fails (exit 6) now if a save would fail later: a login checks this before it asks
   * the service for credentials that could then not be kept.
   */
  async checkWritable(): Promise<void> {
    this.#ensureDir();
    try {
      await withLock(this.#lockFile, () => undefined);
    } catch (error) {
      throw this.#saveFailure(error);
    }
  }

  /** The store as saved; empty when there is none yet. A corrupt file is exit 6, never ignored. */
  read(): StoreData {
    const loaded = this.#load();
    if ('corrupt' in loaded) throw this.#corrupt(loaded.corrupt);
    return loaded.data;
  }

  /**
   * Applies `change` to the freshest store and saves it atomically. With `setAsideCorrupt`
   * (a login), a corrupt file is kept under another name rather than blocking the new
   * credentials; it leaves its place only when the new store takes it.
   */
  async update(change: (data: StoreData) => void, options: { setAsideCorrupt?: boolean } = {}): Promise<StoreData> {
    this.#ensureDir();
    try {
      return await withLock(this.#lockFile, async () => {
        removeTemporaryCopies(this.file);
        removeDeadClaims(this.#lockFile);
        const loaded = this.#load();
        if ('corrupt' in loaded && !options.setAsideCorrupt) throw this.#corrupt(loaded.corrupt);
        const data = 'data' in loaded ? loaded.data : emptyStore();
        change(data);
        const aside = 'corrupt' in loaded ? this.#keepCopy() : undefined;
        try {
          this.#write(data);
        } catch (error) {
          if (aside) unlinkSync(aside);
          throw error;
        }
        if (aside && 'corrupt' in loaded) {
          this.#warn(`the credential store was corrupt (${loaded.corrupt}); kept it as ${aside} and saved afresh`);
        }
        return data;
      });
    } catch (error) {
      throw this.#saveFailure(error);
    }
  }

  /** A KashError or a bug passes through; a file-system failure becomes exit 6. */
  #saveFailure(error: unknown): unknown {
    const code = errnoCode(error);
    if (error instanceof KashError || code === undefined) return error;
    if (code === 'ELOCKED') {
      return new KashError(ExitCode.store, `the credential store ${this.file} is busy: another kash is saving`, {
        hint: `Try again; if no other kash is running, remove ${this.#lockFile}.`,
        cause: error,
      });
    }
    return this.#failure('could not save to', error);
  }

  #load(): Loaded {
    let text: string;
    try {
      if (!statSync(this.dir).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
      this.#tighten(this.dir, 0o700, 'folder');
      text = readFileSync(this.file, 'utf8');
      this.#tighten(this.file, 0o600, 'file');
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return { data: emptyStore() };
      throw this.#failure('could not read', error);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return { corrupt: 'not valid JSON' };
    }
    const problem = storeProblem(parsed);
    if (problem !== undefined) return { corrupt: problem };
    const data = parsed as StoreData;
    // Any valid profile name, "__proto__" included, must be an ordinary key.
    return { data: { ...data, profiles: Object.assign(Object.create(null), data.profiles) } };
  }

  /** The contract's 0600 file in a 0700 folder; a looser one was exposed, so say so. */
  #tighten(path: string, wanted: number, what: string): void {
    if (process.platform === 'win32') return;
    const mode = statSync(path).mode & 0o777;
    if ((mode & ~wanted) === 0) return;
    try {
      chmodSync(path, wanted);
      this.#warn(
        `the store ${what} ${path} was open to other users (mode ${octal(mode)}); tightened it to ${octal(wanted)}`,
      );
    } catch {
      this.#warn(
        `the store ${what} ${path} is open to other users (mode ${octal(mode)}) and kash could not tighten it; run: chmod ${octal(wanted)} ${path}`,
      );
    }
  }

  #ensureDir(): void {
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw this.#failure('could not create the folder for', error);
    }
  }

  /** A second name for the corrupt file, so its bytes survive the save that replaces it. */
  #keepCopy(): string {
    const aside = `${this.file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    linkSync(this.file, aside);
    return aside;
  }

  /**
   * Atomic: a new file of our own (0600, our owner: never the old file's), written and
   * synced, then renamed over the store, then the folder synced so the rename survives a
   * crash. A reader sees the old store or the new one, never a part.
   */
  #write(data: StoreData): void {
    // node:crypto loads the stream machinery: only a save pays for it, never the print path.
    const token = process.getBuiltinModule('node:crypto').randomBytes(6).toString('hex');
    const temporary = `${this.file}.tmp-${process.pid}-${token}`;
    const { O_WRONLY, O_CREAT, O_EXCL } = constants;
    const fd = openSync(temporary, O_WRONLY | O_CREAT | O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o600);
    try {
      try {
        writeFileSync(fd, `${JSON.stringify(data, null, '\t')}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temporary, this.file);
    } catch (error) {
      rmSync(temporary, { force: true });
      throw error;
    }
    syncFolder(this.dir);
  }

  #corrupt(reason: string): KashError {
    return new KashError(ExitCode.store, `the credential store ${this.file} is corrupt: ${reason}`, {
      hint: 'Run `kash login` to set it aside (it is kept, renamed) and save afresh, or repair the file by hand.',
    });
  }

  #failure(doing: string, error: unknown): KashError {
    const code = errnoCode(error);
    const reason = code ?? (error instanceof Error ? error.message : String(error));
    const hint =
      code === 'ENOSPC'
        ? 'The disk is full: free some space and try again.'
        : code === 'EROFS'
          ? 'That file system is read-only; use another folder with --config-dir / KASH_CONFIG_DIR.'
          : storeHint;
    return new KashError(ExitCode.store, `${doing} the credential store ${this.file} (${reason})`, {
      hint,
      cause: error,
    });
  }
}

/**
 * The saved profile names, for shell completion: it never writes, tightens or warns, and
 * never fails; a store that is missing, unreadable or corrupt has none.
 */
export function peekProfileNames(dir: string): string[] {
  try {
    const file = join(dir, STORE_FILE_NAME);
    const stat = lstatSync(file);
    if (!stat.isFile() || stat.size > 1024 * 1024) return [];
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return storeProblem(parsed) === undefined ? Object.keys((parsed as StoreData).profiles) : [];
  } catch {
    return [];
  }
}
