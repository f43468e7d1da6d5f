// A child process for the store tests, bundled with esbuild in the tests' beforeAll
// (so no TypeScript loader is needed), then run with KASH_STORE_WORKER=1 as
// `node worker.mjs <mode> <dir> …`. Also exports the fixtures the tests compare with.
//
//   save <dir> <profile> <apiKey>  one update saving that profile; exits with the KashError's code
//   loop <dir> [wait]              saves for ever, alternating the credentials of profile "main"
//                                  between two sets (plus other profiles); prints "ready" after
//                                  the first save, for a kill -9 test. With "wait", starts only
//                                  when a line arrives on stdin
//   hold <dir>                     takes the store's lock, prints "locked", keeps it until a line
//                                  arrives on stdin, releases it, prints "released" and exits
import { once } from 'node:events';
import { KashError } from '../../src/errors.js';
import { LOCK_TIMINGS, type LockTimings, withLock } from '../../src/store/lock.js';
import type { FileCredentials } from '../../src/store/records.js';
import { CredentialStore } from '../../src/store/store.js';

export function credentialsFor(apiKey: string, shopId: string): FileCredentials {
  return {
    storage: 'file',
    apiKey,
    shopId,
    login: `login-of-${apiKey}`,
    email: null,
    method: 'password',
    baseUrl: 'https://kash.click',
    obtainedAt: `2024-01-01T00:00:00.000Z#${apiKey}`,
    shopTitle: `shop of ${apiKey}`,
  };
}

/** The two sets the loop alternates between: every field differs, so a mix would show. */
export const LOOP_SETS = [
  credentialsFor('OLD-KEY-aaaaaaaaaaaaaaaa', '111'),
  credentialsFor('NEW-KEY-bbbbbbbbbbbbbbbb', '222'),
] as const;

async function main(args: string[]): Promise<void> {
  const [mode, dir, ...rest] = args;
  if (dir === undefined) throw new Error('usage: store-worker <save|loop|hold> <dir> …');
  // Tests that judge staleness run every party with the same short timings.
  const timings: LockTimings = process.env.KASH_TEST_LOCK_TIMINGS
    ? JSON.parse(process.env.KASH_TEST_LOCK_TIMINGS)
    : LOCK_TIMINGS;
  const store = new CredentialStore(dir, (message) => process.stderr.write(`warning: ${message}\n`), timings);
  switch (mode) {
    case 'save': {
      const [profile, apiKey] = rest;
      if (profile === undefined || apiKey === undefined) throw new Error('save needs <profile> <apiKey>');
      await store.update((data) => {
        data.profiles[profile] = { ...data.profiles[profile], credentials: credentialsFor(apiKey, `shop-${profile}`) };
      });
      return;
    }
    case 'loop': {
      // Started ahead of time by the test, so waits for its go (a line on stdin).
      if (rest[0] === 'wait') await once(process.stdin, 'data');
      for (let i = 0; ; i++) {
        const set = LOOP_SETS[i % 2]!;
        await store.update((data) => {
          data.profiles.main = { credentials: set };
          data.profiles[`other-${i % 5}`] = { credentials: credentialsFor(`other-key-${i}`, String(i)) };
        });
        if (i === 0) process.stdout.write('ready\n');
      }
    }
    case 'hold': {
      await withLock(
        `${store.file}.lock`,
        async () => {
          process.stdout.write('locked\n');
          await once(process.stdin, 'data');
        },
        timings,
      );
      process.stdout.write('released\n');
      process.stdin.destroy();
      return;
    }
    default:
      throw new Error(`unknown mode ${String(mode)}`);
  }
}

// The tests import this module for its fixtures; only a spawned worker runs.
if (process.env.KASH_STORE_WORKER === '1') {
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(error instanceof KashError ? error.exitCode : 1);
    },
  );
}
