import { ExitCode, KashError } from '../errors.js';
import { withSystemInterrupt } from '../signals.js';

/** The operating system's secret store, as kash uses it: items of service `kash`, one per save. */
export interface Keyring {
  set(id: string, key: string): Promise<void>;
  /** Null when there is no such item. */
  get(id: string): Promise<string | null>;
  /** False when there was no such item. */
  remove(id: string): Promise<boolean>;
  /**
   * Whether a secret store answers and takes a write: undefined when it does, else why
   * there is none (no bus, no Secret Service, no library for this platform). A store
   * that is there but fails (locked, a dismissed prompt, no answer) is exit 6 instead.
   */
  probe(): Promise<string | undefined>;
}

export const KEYRING_SERVICE = 'kash';

/** The store is not there at all: `auto` falls back to the file for this, and only for this. */
export class NoKeyring extends Error {
  override name = 'NoKeyring';
}

/** A new item's account name: random, new at every save, so that nothing about the profile is in it. */
export const newKeyringId = () => `kash-${process.getBuiltinModule('node:crypto').randomUUID()}`;

export interface KeyringTimings {
  /** When a person can answer an unlock prompt, 60 s; else 3 s. */
  limitMs: number;
  /** When to say that kash is waiting. */
  noticeMs: number;
}

export interface KeyringOptions {
  timings: KeyringTimings;
  /** Said once a call has taken `noticeMs`. */
  waitingText: string;
  /**
   * Said when a call has taken `limitMs`. Such a call cannot be abandoned (the library's
   * thread stays stuck in it, and Node waits for it even in process.exit), so kash then
   * ends itself.
   */
  stuckText: string;
}

// What the library says when the store is not there at all, as against there but failing.
const ABSENT =
  /Failed to connect to socket|autolaunch|DBUS_SESSION_BUS_ADDRESS|not provided by any \.service files|ServiceUnknown|No such file or directory/i;

/** Why there is no store, in a person's words where the library's are D-Bus's. */
function absence(message: string): string {
  if (/autolaunch|DBUS_SESSION_BUS_ADDRESS/i.test(message))
    return 'no D-Bus session: DBUS_SESSION_BUS_ADDRESS is not set';
  if (/not provided by any \.service files|ServiceUnknown/i.test(message))
    return 'no Secret Service on the D-Bus session';
  if (/Failed to connect to socket|No such file or directory/i.test(message))
    return 'the D-Bus session bus does not answer';
  return message;
}

function failed(error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  if (ABSENT.test(message) && !/Did not receive a reply/i.test(message)) return new NoKeyring(absence(message));
  return new KashError(
    ExitCode.store,
    `the system keyring failed: ${message.replace(/^Couldn't access platform storage: /, '')}`,
    {
      hint: /\b(dismissed|locked)\b/i.test(message)
        ? 'Unlock the keyring (log in to the desktop session, or run its unlock command), or use --storage file.'
        : 'Check that the keyring daemon runs and answers, or use --storage file.',
      cause: error,
    },
  );
}

/**
 * The library connects to the store synchronously, on this thread, in the entry's
 * constructor (a frozen daemon holds it there ~2 s), so no timer of this thread can say
 * kash waits or end it at the limit: a thread of its own does both. One per process,
 * armed for each call with the call's number and disarmed with 0.
 */
function watchdog(options: KeyringOptions): { arm(): void; disarm(): void } {
  const { Worker } = process.getBuiltinModule('node:worker_threads');
  const state = new Int32Array(new SharedArrayBuffer(4));
  const { noticeMs, limitMs } = options.timings;
  const worker = new Worker(
    `const { workerData: { state, noticeMs, limitMs, waitingText, stuckText } } = require('node:worker_threads');
const { writeSync } = require('node:fs');
for (;;) {
  Atomics.wait(state, 0, 0);
  const call = Atomics.load(state, 0);
  if (Atomics.wait(state, 0, call, noticeMs) !== 'timed-out') continue;
  writeSync(2, waitingText);
  if (Atomics.wait(state, 0, call, limitMs - noticeMs) !== 'timed-out') continue;
  writeSync(2, stuckText);
  process.kill(process.pid, 'SIGKILL');
}`,
    {
      eval: true,
      workerData: { state, noticeMs, limitMs, waitingText: options.waitingText, stuckText: options.stuckText },
    },
  );
  worker.unref();
  let calls = 0;
  const set = (value: number) => {
    Atomics.store(state, 0, value);
    Atomics.notify(state, 0);
  };
  return { arm: () => set(++calls), disarm: () => set(0) };
}

type Entry = {
  setPassword(value: string): Promise<void>;
  getPassword(): Promise<string | null>;
  deleteCredential(): Promise<boolean>;
};

/**
 * The system keyring through @napi-rs/keyring, loaded only here, pinned to the Secret
 * Service on Linux (unpinned it falls back, silently, to the kernel keyring, which a
 * reboot empties). Every call is bounded; none is made while the store's lock is held.
 */
export function systemKeyring(options: KeyringOptions): Keyring {
  let guard: ReturnType<typeof watchdog> | undefined;
  const bounded = async <T>(id: string, work: (entry: Entry) => Promise<T>): Promise<T> => {
    guard ??= watchdog(options);
    guard.arm();
    try {
      let library: typeof import('@napi-rs/keyring');
      try {
        library = await import('@napi-rs/keyring');
      } catch (error) {
        throw new NoKeyring(`no keyring library for ${process.platform}-${process.arch} (${(error as Error).message})`);
      }
      const entry: Entry = new library.AsyncEntry(KEYRING_SERVICE, id, { linux: { store: 'secret-service' } });
      return await work(entry);
    } catch (error) {
      if (error instanceof NoKeyring || error instanceof KashError) throw error;
      throw failed(error);
    } finally {
      guard.disarm();
    }
  };
  const call = <T>(id: string, work: (entry: Entry) => Promise<T>) => withSystemInterrupt(() => bounded(id, work));
  return {
    set: (id, key) => call(id, (entry) => entry.setPassword(key)),
    get: (id) => call(id, (entry) => entry.getPassword()),
    remove: (id) => call(id, (entry) => entry.deleteCredential()),
    async probe() {
      const id = `${newKeyringId()}-probe`;
      try {
        await call(id, async (entry) => {
          await entry.setPassword('probe');
          await entry.deleteCredential();
        });
        return undefined;
      } catch (error) {
        if (error instanceof NoKeyring) return error.message;
        throw error;
      }
    },
  };
}
