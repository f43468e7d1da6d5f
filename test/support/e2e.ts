// The harness of the end-to-end suites: the built CLI (bin/kash.js) as a real process,
// against the service emulator, in an environment that cannot reach the developer's own
// keychain, caches or configuration (test/support/environment.ts), every run checked for
// leaked secrets (test/support/run-kash.ts).
//
//   const e2e = useE2e();                      // at the top of a test file
//   const dir = e2e.freshDir();                // a config folder of the test's own
//   const run = await e2e.kash(dir, ['login', '--login', demo.login], { env: { KASH_PASSWORD: … } });
//   e2e.emulator.requests                      // the file's emulator
//
// `useE2e` registers the hooks: the emulator is started before the file's tests and closed
// after them; every folder the file made (freshDir, tempDir, tempConfigDir) is removed.
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { type Emulator, type EmulatorOptions, startEmulator } from './emulator.js';
import { type EnvironmentOptions, kashEnvironment, removeSandbox, tempDir, withChanges } from './environment.js';
import { type KashOptions, type KashRun, runKash, type StartedKash, startKash } from './run-kash.js';

export { type EnvironmentOptions, isolation, kashEnvironment, tempDir, withChanges } from './environment.js';
export {
  collect,
  KASH_BIN,
  type KashOptions,
  type KashRun,
  registerSecret,
  runKash,
  type StartedKash,
  startKash,
  withHygiene,
} from './run-kash.js';

export interface HarnessOptions extends EnvironmentOptions {
  /** The options of the file's emulator; `false`: the file starts none (its tests start their own). */
  emulator?: EmulatorOptions | false;
}

export interface Harness {
  /** The file's emulator, started before its tests. */
  readonly emulator: Emulator;
  /** A config folder of the test's own that does not exist yet (its parent does), so that kash creates it. */
  freshDir(): string;
  /** A new empty folder of the test's own. */
  tempDir(prefix?: string): string;
  /**
   * `kash --config-dir <dir> <args…>` against the file's emulator (KASH_BASE_URL, which
   * `options.env` may override or remove); rejects when the run leaks a secret.
   */
  kash(dir: string, args: string[], options?: KashOptions): Promise<KashRun>;
  /** The same, started: returns at once with the child and its result. */
  start(dir: string, args: string[], options?: KashOptions): StartedKash;
  /** Starts another emulator, closed with the file's. */
  startEmulator(options?: EmulatorOptions): Promise<Emulator>;
  /** The environment this file's kash runs get, for a child started by hand (a shell that runs kash). */
  env(changes?: Record<string, string | undefined>): Record<string, string>;
}

export function useE2e(options: HarnessOptions = {}): Harness {
  const { emulator: emulatorOptions = {}, ...environment } = options;
  let emulator: Emulator | undefined;
  const others: Emulator[] = [];

  beforeAll(async () => {
    if (emulatorOptions !== false) emulator = await startEmulator(emulatorOptions);
  });

  afterAll(async () => {
    await Promise.all([emulator, ...others].map((e) => e?.close()));
    const problem = removeSandbox();
    if (problem !== undefined) console.warn(problem);
  });

  const bound = (dir: string, args: string[], run: KashOptions = {}): [string[], KashOptions] => [
    ['--config-dir', dir, ...args],
    {
      ...environment,
      ...run,
      env: { ...(emulator && { KASH_BASE_URL: emulator.url }), ...run.env },
    },
  ];

  return {
    get emulator() {
      if (emulator === undefined)
        throw new Error(
          emulatorOptions === false ? 'useE2e({ emulator: false }) starts no emulator' : 'used before beforeAll',
        );
      return emulator;
    },
    freshDir: () => join(tempDir('config-'), 'kash'),
    tempDir,
    kash: (dir, args, run) => runKash(...bound(dir, args, run)),
    start: (dir, args, run) => startKash(...bound(dir, args, run)),
    async startEmulator(more) {
      const started = await startEmulator(more);
      others.push(started);
      return started;
    },
    env: (changes = {}) => withChanges(kashEnvironment(environment), changes),
  };
}
