import { ExitCode, KashError } from '../errors.js';
import { running, withInterrupt } from '../signals.js';

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
  /**
   * Said when Ctrl-C ends kash during a call, which it does as at the limit: what a
   * cancel means (nothing changed, or a code was sent) is asked at each call.
   */
  cancelledText: () => string;
}

/** Where the store is a D-Bus service: neither macOS nor Windows. */
const ON_DBUS = process.platform !== 'win32' && process.platform !== 'darwin';

// What the library says when the store is not there at all, as against there but failing.
const ABSENT =
  /Failed to connect to (socket|address)|autolaunch|DBUS_SESSION_BUS_ADDRESS|not provided by any \.service files|ServiceUnknown|No such file or directory/i;

/** Why there is no store, in a person's words where the library's are D-Bus's. */
function absence(message: string): string {
  if (/not provided by any \.service files|ServiceUnknown/i.test(message))
    return 'no Secret Service on the D-Bus session';
  // The search's D-Bus client, unlike the entry's, tries the bus in XDG_RUNTIME_DIR when no address is set.
  if (/autolaunch|DBUS_SESSION_BUS_ADDRESS/i.test(message) || (ON_DBUS && !process.env.DBUS_SESSION_BUS_ADDRESS))
    return 'no D-Bus session: DBUS_SESSION_BUS_ADDRESS is not set';
  if (/Failed to connect to (socket|address)|No such file or directory/i.test(message))
    return 'the D-Bus session bus does not answer';
  return message;
}

function failed(error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  if (ABSENT.test(message) && !/Did not receive a reply/i.test(message)) return new NoKeyring(absence(message));
  return new KashError(
    ExitCode.store,
    `the system keyring failed: ${message.replace(/^(Couldn't access platform storage|zbus error): /, '')}`,
    {
      hint: /\b(dismissed|locked)\b/i.test(message)
        ? 'Unlock the keyring (log in to the desktop session, or run its unlock command), or use --storage file.'
        : 'Check that the keyring daemon runs and answers, or use --storage file.',
      cause: error,
    },
  );
}

/** How often the watchdog looks whether kash is still there: at most this long after kash, it is gone too. */
const TICK_MS = 250;

/**
 * What a watchdog runs, in a shell of its own, one tick at a time: after $1 ticks it says
 * kash is waiting, after $2 it says kash gave up and ends it, unless told to stop
 * (SIGTERM) first. Ctrl-C (the terminal's, which the shell gets as a member of kash's
 * process group, or kash's own, passed on) says $5 and ends kash at once. At each tick
 * it checks that kash is still its parent, and ends when not: it must neither hold
 * kash's stderr open after kash, nor end a process that took a dead kash's PID. A sleep
 * that cannot sleep a fraction of a second ends it too; a stderr that nobody reads any
 * more does not (SIGPIPE is ignored), or a stuck kash would be left stuck.
 */
const WATCHDOG_SCRIPT = `waiting=$3 stuck=$4 cancelled=$5
trap '' PIPE
ours() {
  if [ -r /proc/$$/stat ]; then read -r stat < /proc/$$/stat; set -- \${stat##*') '}; [ "$2" = "$PPID" ]
  else [ "$(ps -o ppid= -p $$ | tr -d ' ')" = "$PPID" ]; fi
}
end() { ours && { printf %s "$1" >&2; kill -KILL $PPID; }; exit 0; }
trap 'kill $s 2>/dev/null; exit 0' TERM
trap 'end "$cancelled"' INT
i=0
while [ $i -lt $2 ]; do
  sleep ${TICK_MS / 1000} & s=$!; wait $s || exit 0
  ours || exit 0
  i=$((i + 1))
  [ $i -eq $1 ] && printf %s "$waiting" >&2
done
end "$stuck"`;

/** Says `text` on stderr, at once; a closed stderr must neither keep kash waiting nor end it. */
function say(text: string): void {
  try {
    process.getBuiltinModule('node:fs').writeSync(2, text);
  } catch {
    // Nobody to tell.
  }
}

/** Says `text` and ends kash, now: a keyring library's stuck thread would keep any gentler exit waiting. */
function endNow(text: string): void {
  say(text);
  process.kill(process.pid, 'SIGKILL');
}

interface Guard {
  /** The call has returned. */
  stop(): void;
  /** Ctrl-C during the call. */
  interrupt(): void;
}

/**
 * The library connects to the store synchronously, on this thread, in the entry's
 * constructor (a frozen bus holds it there for ever), so no timer or signal handler of
 * this thread can say kash waits, end it at the limit, or at a Ctrl-C: a process beside
 * it does all three, one per call. A shell costs a millisecond or two to start, where a
 * worker thread took some 20 ms. (Windows has no such shell, and its Credential Manager
 * no such daemon to freeze.)
 */
function watchdog(options: KeyringOptions): Guard {
  const cancelled = options.cancelledText();
  if (process.platform === 'win32') return { stop: () => undefined, interrupt: () => endNow(cancelled) };
  const ticks = (ms: number) => String(Math.max(1, Math.round(ms / TICK_MS)));
  const { noticeMs, limitMs } = options.timings;
  const { spawn } = process.getBuiltinModule('node:child_process');
  const shell = spawn(
    '/bin/sh',
    [
      '-c',
      WATCHDOG_SCRIPT,
      'kash-keyring-watchdog',
      ticks(noticeMs),
      ticks(limitMs),
      options.waitingText,
      options.stuckText,
      cancelled,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  shell.on('error', () => undefined);
  shell.unref();
  return {
    stop: () => shell.kill('SIGTERM'),
    // The shell may have had the terminal's Ctrl-C already; one of its traps runs either way.
    interrupt: () => (running(shell) ? shell.kill('SIGINT') : endNow(cancelled)),
  };
}

type Entry = {
  setPassword(value: string): Promise<void>;
  getPassword(): Promise<string | null>;
  deleteCredential(): Promise<boolean>;
};

type Library = typeof import('@napi-rs/keyring');

/**
 * The library's package of prebuilt binaries for each platform it has one for, where the
 * platform alone names it (on Linux, glibc's: a musl system has the other package, which
 * the library's own loader picks).
 */
export const PLATFORM_BINDINGS: Readonly<Record<string, string>> = {
  'linux-x64': '@napi-rs/keyring-linux-x64-gnu',
  'linux-arm64': '@napi-rs/keyring-linux-arm64-gnu',
  'darwin-x64': '@napi-rs/keyring-darwin-x64',
  'darwin-arm64': '@napi-rs/keyring-darwin-arm64',
  'win32-x64': '@napi-rs/keyring-win32-x64-msvc',
  'win32-arm64': '@napi-rs/keyring-win32-arm64-msvc',
};

/**
 * This platform's binary, found as the library's loader finds it (from the library's
 * folder), but without that loader: compiling it and trying a file and a package before
 * this one costs some 8 M instructions, a keyring read's worth. The binary is the whole
 * library; the loader only picks it. Undefined when there is none here that loads: the
 * loader then decides, and says why when it cannot. `require` is the bundle's, which
 * bin/kash.js hands it.
 */
function platformBinding(): Library | undefined {
  const name = PLATFORM_BINDINGS[`${process.platform}-${process.arch}`];
  if (name === undefined) return undefined;
  try {
    const library = process.getBuiltinModule('node:path').dirname(require.resolve('@napi-rs/keyring'));
    return require(require.resolve(name, { paths: [library] })) as Library;
  } catch {
    return undefined;
  }
}

async function load(): Promise<Library> {
  try {
    return platformBinding() ?? (await import('@napi-rs/keyring'));
  } catch (error) {
    throw new NoKeyring(`no keyring library for ${process.platform}-${process.arch} (${(error as Error).message})`);
  }
}

/** The bound of a call that leaves this thread free: the same words as the watchdog's, at the same times. */
function timers(options: KeyringOptions): Guard {
  const cancelled = options.cancelledText();
  const { noticeMs, limitMs } = options.timings;
  const notice = setTimeout(() => say(options.waitingText), noticeMs);
  const stuck = setTimeout(() => endNow(options.stuckText), limitMs);
  return {
    stop: () => {
      clearTimeout(notice);
      clearTimeout(stuck);
    },
    interrupt: () => endNow(cancelled),
  };
}

/** `work` under a guard, which Ctrl-C is given to until the guard stops. */
async function guarded<T>(guard: Guard, work: () => Promise<T>): Promise<T> {
  try {
    return await withInterrupt(guard.interrupt, work);
  } finally {
    guard.stop();
  }
}

/**
 * The system keyring through @napi-rs/keyring, loaded only here, pinned to the Secret
 * Service on Linux (unpinned it falls back, silently, to the kernel keyring, which a
 * reboot empties). Every call is bounded; none is made while the store's lock is held.
 */
export function systemKeyring(options: KeyringOptions): Keyring {
  const call = <T>(id: string, work: (entry: Entry) => Promise<T>): Promise<T> =>
    guarded(watchdog(options), async () => {
      try {
        const library = await load();
        const entry: Entry = new library.AsyncEntry(KEYRING_SERVICE, id, { linux: { store: 'secret-service' } });
        return await work(entry);
      } catch (error) {
        if (error instanceof NoKeyring || error instanceof KashError) throw error;
        throw failed(error);
      }
    });
  /**
   * On D-Bus, a read is a search for kash's items: the library then connects on a thread
   * of its own, where an entry's constructor connects on this one. This thread stays
   * free, so its own timers bound the call and no watchdog is started (node:child_process
   * alone costs a third of what the read does). Null for a locked keyring, which gives a
   * search no secrets: the entry then asks for an unlock.
   */
  const searched = (id: string): Promise<{ key: string | null } | null> =>
    guarded(timers(options), async () => {
      try {
        const library = await load();
        // Every item of service kash, each profile's key among them, as the entry reads one.
        const items = await library.findCredentialsAsync(KEYRING_SERVICE);
        return { key: items.find((item) => item.account === id)?.password ?? null };
      } catch (error) {
        if (error instanceof NoKeyring) throw error;
        if (/IsLocked/.test(error instanceof Error ? error.message : '')) return null;
        throw failed(error);
      }
    });
  return {
    set: (id, key) => call(id, (entry) => entry.setPassword(key)),
    async get(id) {
      const found = ON_DBUS ? await searched(id) : null;
      return found ? found.key : call(id, (entry) => entry.getPassword());
    },
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
