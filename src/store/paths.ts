import { isAbsolute, join } from 'node:path';
import { lazily } from '../lazy.js';

/**
 * HOME where it is set, as os.homedir() itself reads it first on Unix; node:os only
 * otherwise, since it is not in Node's start-up snapshot and every command would load it.
 */
export function homeFolder(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string {
  return (platform !== 'win32' && env.HOME) || process.getBuiltinModule('node:os').homedir();
}

/** An absolute POSIX path with no empty, `.` or `..` part and no slash at its end. */
const CLEAN_FOLDER = /^(?:\/(?!\.\.?(?:\/|$))[^/]+)+$/;

/**
 * `join(folder, ...names)` for plain names (no slash, not `.` or `..`). Where `folder` is
 * clean already, as the default folders and most given ones are, the names are appended:
 * path.join normalises a character at a time, the one hot loop of a start, and a few
 * hundred characters of it make V8 optimise that loop on a thread of its own (some 3 MB).
 */
export function joinNames(folder: string, ...names: string[]): string {
  return process.platform !== 'win32' && CLEAN_FOLDER.test(folder)
    ? [folder, ...names].join('/')
    : join(folder, ...names);
}

/**
 * The OS's per-user config folder with `kash` inside, as env-paths lays it out but
 * without conf's `-nodejs` suffix, so the path users read about is the path we use.
 */
export function defaultConfigDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string {
  const home = () => homeFolder(env, platform);
  if (platform === 'win32') return join(env.APPDATA || join(home(), 'AppData', 'Roaming'), 'kash', 'Config');
  if (platform === 'darwin') return joinNames(home(), 'Library', 'Preferences', 'kash');
  // The XDG spec says a relative XDG_CONFIG_HOME is invalid and to be ignored.
  const xdg = env.XDG_CONFIG_HOME;
  return xdg && isAbsolute(xdg) ? joinNames(xdg, 'kash') : joinNames(home(), '.config', 'kash');
}

export const STORE_FILE_NAME = 'credentials.json';

/*
 * What kash writes beside its store, each named from the store's file here and nowhere
 * else: its lock, a claim on the lock (named by the owner's token), the lock's takeover
 * guard, and the temporary, trial and set-aside copies of the store.
 */
export const LOCK_SUFFIX = '.lock';
export const TAKEOVER_SUFFIX = '.takeover';
/** Hex digits of a lock owner's token, which names its claim; and of a copy's random part. */
const CLAIM_DIGITS = 24;
const COPY_DIGITS = 12;

const hexToken = (digits: number) =>
  process
    .getBuiltinModule('node:crypto')
    .randomBytes(digits / 2)
    .toString('hex');
export const ownerToken = () => hexToken(CLAIM_DIGITS);
export const claimName = (lock: string, token: string) => `${lock}.${token}`;
/** A copy written aside and renamed over the store (tmp), or written only to prove a save can work (trial). */
export const copyName = (file: string, kind: 'tmp' | 'trial') => `${file}.${kind}-${hexToken(COPY_DIGITS)}`;
export const setAsideName = (file: string, at = new Date()) =>
  `${file}.corrupt-${at.toISOString().replace(/[:.]/g, '-')}`;

const escaped = (text: string) => text.replaceAll('.', '\\.');
const CLAIM = String.raw`\.[0-9a-f]{${CLAIM_DIGITS}}`;
const COPY = String.raw`\.(?:tmp|trial)-[0-9a-f]{${COPY_DIGITS}}`;
// Made at first use: only a save, or a lock's clean-up, asks.
const KASH_FILE = lazily(
  () =>
    new RegExp(
      String.raw`^${escaped(STORE_FILE_NAME)}(?:${escaped(LOCK_SUFFIX)}(?:${CLAIM}|${escaped(TAKEOVER_SUFFIX)})?|${COPY}|\.corrupt-[0-9TZ-]{24})?$`,
    ),
);
const CLAIM_ONLY = lazily(() => new RegExp(`^${CLAIM}$`));
const COPY_ONLY = lazily(() => new RegExp(`^${escaped(STORE_FILE_NAME)}${COPY}$`));

/** Whether kash writes a file of this name in its folder (a `credentials.json.bak` of the user's is not one). */
export const isKashFile = (name: string) => KASH_FILE().test(name);
/** Whether `name` is a claim on the lock whose base name is `lock`. */
export const isClaimOn = (lock: string, name: string) =>
  name.startsWith(lock) && CLAIM_ONLY().test(name.slice(lock.length));
/** Whether `name` is a copy of the store that a kash killed mid-save may leave. */
export const isCopy = (name: string) => COPY_ONLY().test(name);
