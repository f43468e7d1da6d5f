import { chmodSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode, KashError } from '../errors.js';
import { withLock } from './lock.js';
import { STORE_FILE_NAME } from './paths.js';
import { emptyStore, storeProblem, type StoreData } from './records.js';

type Loaded = { data: StoreData } | { corrupt: string };

const errnoCode = (error: unknown) => (error as NodeJS.ErrnoException | null)?.code;
const storeHint = 'Check the permissions of that path, or use another folder with --config-dir / KASH_CONFIG_DIR.';
const octal = (mode: number) => (mode & 0o777).toString(8).padStart(4, '0');

/**
 * The credential store: one JSON file of profiles. Reads are plain fs so the print path
 * (`whoami`, `env`) stays light; writes go through conf, under a lock, and are atomic.
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

  /** The store as saved; empty when there is none yet. A corrupt file is exit 6, never ignored. */
  read(): StoreData {
    const loaded = this.#load();
    if ('corrupt' in loaded) throw this.#corrupt(loaded.corrupt);
    return loaded.data;
  }

  /**
   * Applies `change` to the freshest store and saves it atomically. With `setAsideCorrupt`
   * (a login), a corrupt file is renamed and kept rather than blocking the new credentials.
   */
  async update(change: (data: StoreData) => void, options: { setAsideCorrupt?: boolean } = {}): Promise<StoreData> {
    this.#ensureDir();
    try {
      return await withLock(`${this.file}.lock`, async () => {
        const loaded = this.#load();
        let data: StoreData;
        if ('data' in loaded) data = loaded.data;
        else if (options.setAsideCorrupt) data = this.#setAside(loaded.corrupt);
        else throw this.#corrupt(loaded.corrupt);
        change(data);
        await this.#write(data);
        return data;
      });
    } catch (error) {
      if (error instanceof KashError) throw error;
      if (errnoCode(error) === 'ELOCKED') {
        throw new KashError(ExitCode.store, `the credential store ${this.file} is busy: another kash is saving`, {
          hint: `Try again; if no other kash is running, remove ${this.file}.lock.`,
          cause: error,
        });
      }
      throw this.#failure('could not save to', error);
    }
  }

  #load(): Loaded {
    let text: string;
    try {
      this.#tighten(this.dir, 0o700, 'folder');
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return { data: emptyStore() };
      throw this.#failure('could not read', error);
    }
    this.#tighten(this.file, 0o600, 'file');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return { corrupt: 'not valid JSON' };
    }
    const problem = storeProblem(parsed);
    return problem === undefined ? { data: parsed as StoreData } : { corrupt: problem };
  }

  /** The contract's 0600 file in a 0700 folder; a looser one was exposed, so say so. */
  #tighten(path: string, wanted: number, what: string): void {
    if (process.platform === 'win32') return;
    const mode = statSync(path).mode & 0o777;
    if ((mode & ~wanted) === 0) return;
    try {
      chmodSync(path, wanted);
      this.#warn(`the store ${what} ${path} was open to other users (mode ${octal(mode)}); tightened it to ${octal(wanted)}`);
    } catch {
      this.#warn(`the store ${what} ${path} is open to other users (mode ${octal(mode)}) and kash could not tighten it; run: chmod ${octal(wanted)} ${path}`);
    }
  }

  #ensureDir(): void {
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw this.#failure('could not create the folder for', error);
    }
  }

  #setAside(reason: string): StoreData {
    const aside = `${this.file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    renameSync(this.file, aside);
    this.#warn(`the credential store was corrupt (${reason}); kept it as ${aside} and saved afresh`);
    return emptyStore();
  }

  async #write(data: StoreData): Promise<void> {
    const { default: Conf } = await import('conf');
    const conf = new Conf<Record<string, unknown>>({
      cwd: this.dir,
      configName: STORE_FILE_NAME.replace(/\.json$/, ''),
      projectSuffix: '',
      configFileMode: 0o600,
      accessPropertiesByDotNotation: false,
    });
    conf.store = data as unknown as Record<string, unknown>;
  }

  #corrupt(reason: string): KashError {
    return new KashError(ExitCode.store, `the credential store ${this.file} is corrupt: ${reason}`, {
      hint: 'Run `kash login` to set it aside (it is kept, renamed) and save afresh, or repair the file by hand.',
    });
  }

  #failure(doing: string, error: unknown): KashError {
    const reason = errnoCode(error) ?? (error instanceof Error ? error.message : String(error));
    return new KashError(ExitCode.store, `${doing} the credential store ${this.file} (${reason})`, { hint: storeHint, cause: error });
  }
}
