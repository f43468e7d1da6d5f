// kash runs against a private GNOME Keyring (test/support/keyring-session.ts), for every
// suite that keeps a key in the keyring:
//
//   const e2e = useE2e();
//   const keyring = useKeyring(e2e);                 // sessions ended after the file
//   const session = await keyring.session();        // a bus and a daemon of this test's own
//   await keyring.keyLogin(session.env, dir, key, ['--storage', 'keyring']);
//   await keyring.kash(session.env, dir, ['env']);
//
// Each run is given the bus it may use (or none) explicitly and no KASH_STORAGE, so kash
// chooses where the key goes and no run can reach a bus of the developer's.
import { afterAll, expect } from 'vitest';
import type { Harness, KashOptions, KashRun } from './e2e.js';
import type { Emulator } from './emulator.js';
import { type KeyringSession, startKeyringSession, stopAllKeyringSessions } from './keyring-session.js';

/** The variables that put a run on a bus, or on none: never the bus of whoever runs the tests. */
export type Where = Record<string, string | undefined>;

export interface KeyringRunOptions extends Pick<KashOptions, 'input'> {
  /** The service to use, in place of the file's emulator. */
  emulator?: Emulator;
}

export interface KeyringRuns {
  /** A bus and a GNOME Keyring on it, unlocked, for one test. */
  session(): Promise<KeyringSession>;
  /** `kash --config-dir <dir> …` on the bus that `where` names. */
  kash(where: Where, dir: string, args: string[], options?: KeyringRunOptions): Promise<KashRun>;
  /** `kash login --api-key-stdin` (nothing is sent to the service), expected to succeed. */
  keyLogin(where: Where, dir: string, key: string, extra?: string[], shopId?: string): Promise<KashRun>;
}

export function useKeyring(e2e: Harness): KeyringRuns {
  afterAll(stopAllKeyringSessions);
  const kash: KeyringRuns['kash'] = (where, dir, args, options = {}) =>
    e2e.kash(dir, args, {
      input: options.input,
      env: { ...where, KASH_STORAGE: undefined, ...(options.emulator && { KASH_BASE_URL: options.emulator.url }) },
    });
  return {
    session: () => startKeyringSession(e2e.tempDir('keyring-')),
    kash,
    async keyLogin(where, dir, key, extra = [], shopId = '9') {
      const run = await kash(where, dir, ['login', '--api-key-stdin', '--shop-id', shopId, ...extra], {
        input: `${key}\n`,
      });
      expect(run.code, run.stderr).toBe(0);
      return run;
    },
  };
}
