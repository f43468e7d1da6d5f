import { parseBaseUrl } from './api/base-url.js';
import { usageError } from './errors.js';
import { quote } from './sanitize.js';
import { defaultConfigDir } from './store/paths.js';
import { isProfileName } from './store/records.js';

const DEFAULT_BASE_URL = 'https://kash.click';
const DEFAULT_TIMEOUT_SECONDS = 30;

/** The global options as the user typed them: absent means not typed. */
export interface GlobalFlags {
  profile?: string | undefined;
  baseUrl?: string | undefined;
  configDir?: string | undefined;
  timeout?: string | undefined;
  json?: boolean | undefined;
  verbose?: boolean | undefined;
  /** `--no-input`. */
  noInput?: boolean | undefined;
  /** `--no-color`. */
  noColor?: boolean | undefined;
}

/** What only the network needs: checked by the commands that use it, so a bad one never breaks `env`. */
export interface NetworkSettings {
  baseUrl: string;
  /** Whether --base-url or KASH_BASE_URL gave it: `kash api` otherwise uses the profile's own. */
  baseUrlGiven: boolean;
  timeoutMs: number;
}

/** The global options of ../shared/CLI.md, resolved: flag, then variable, then default. */
export interface Settings {
  /**
   * The profile that --profile or KASH_PROFILE names, or undefined when neither does (the
   * store's default then applies). `fromFlag` matters: an explicit --profile beats
   * credentials in the environment.
   */
  profile: { name: string; fromFlag: boolean } | undefined;
  configDir: string;
  /** The folder when --config-dir gave it: hints then repeat it, as a variable would be there already. */
  configDirFlag: string | undefined;
  json: boolean;
  verbose: boolean;
  /** Why prompting is off (`--no-input`, `KASH_NO_INPUT=1`, `CI=…`), or undefined when it is allowed. */
  noInputBecause: string | undefined;
  /** The base URL and timeout, checked on first use. */
  network(): NetworkSettings;
}

/**
 * Node hands over an argument or variable that is not valid UTF-8 with U+FFFD in place
 * of each bad byte: sent on, it would no longer be what the user gave. (A U+FFFD the
 * user did give, as UTF-8, is theirs: see typedAsUtf8.)
 */
export function refuseMangled(value: string, name: string, what?: string): string {
  if (value.includes('\ufffd') && !typedAsUtf8(value, name)) {
    throw usageError(
      `${what ? `the ${what} given by ` : ''}${name} is not valid UTF-8`,
      'Give it as UTF-8 text: kash sends and uses values exactly as given.',
    );
  }
  return value;
}

const VARIABLE_NAME = /^[A-Z][A-Z0-9_]*$/;

/**
 * Whether a value holding U+FFFD reached kash as valid UTF-8. Linux keeps the bytes the
 * process started with, where a real U+FFFD (EF BF BD) and a bad byte differ; elsewhere,
 * or for a value that is not among them as it stands, there is no telling, so no.
 */
function typedAsUtf8(value: string, name: string): boolean {
  if (process.platform !== 'linux') return false;
  const { readFileSync } = process.getBuiltinModule('node:fs');
  const { isUtf8 } = process.getBuiltinModule('node:buffer');
  const byVariable = VARIABLE_NAME.test(name);
  let raw: Buffer;
  try {
    raw = readFileSync(byVariable ? '/proc/self/environ' : '/proc/self/cmdline');
  } catch {
    return false;
  }
  // Each NUL-ended entry that could have given the value must be valid UTF-8, and one must exist.
  const entries: Buffer[] = [];
  for (let start = 0, end = raw.indexOf(0); end !== -1; start = end + 1, end = raw.indexOf(0, start))
    entries.push(raw.subarray(start, end));
  const candidates = entries.filter((entry) =>
    byVariable ? entry.toString() === `${name}=${value}` : entry.toString().includes(value),
  );
  return candidates.length > 0 && candidates.every((entry) => isUtf8(entry));
}

/** A variable counts as given when it is set and not empty; the one rule for every KASH_* input. */
export const variable = (env: NodeJS.ProcessEnv, name: string): string | undefined => {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
};

/** The variable, refused when it is not valid UTF-8. */
const mangledOr = (env: NodeJS.ProcessEnv, name: string, what: string) => {
  const value = variable(env, name);
  return value === undefined ? undefined : refuseMangled(value, name, what);
};

/** The variables the default folder is built from, each refused where it is read when not valid UTF-8. */
const pathVariables = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv => {
  const checked = (name: string) => mangledOr(env, name, 'folder');
  return {
    get HOME() {
      return checked('HOME');
    },
    get XDG_CONFIG_HOME() {
      return checked('XDG_CONFIG_HOME');
    },
    get APPDATA() {
      return checked('APPDATA');
    },
  };
};

export const truthy = (value: string | undefined) => value !== undefined && /^(1|true|yes)$/i.test(value);

/** `CI` disables prompts unless it is empty, `0` or `false`, as CI services set it. */
const ciSet = (value: string | undefined) => value !== undefined && !/^(|0|false)$/i.test(value);

/** --verbose or KASH_DEBUG; also what an error is shown with when the other settings failed. */
export const isVerbose = (flags: GlobalFlags, env: NodeJS.ProcessEnv) => flags.verbose ?? truthy(env.KASH_DEBUG);

/** Pure: the same flags and variables always give the same settings. */
export function resolveSettings(flags: GlobalFlags, env: NodeJS.ProcessEnv): Settings {
  const profileName = flags.profile ?? variable(env, 'KASH_PROFILE');
  const configDir =
    (flags.configDir === undefined ? undefined : refuseMangled(flags.configDir, '--config-dir', 'folder')) ??
    mangledOr(env, 'KASH_CONFIG_DIR', 'folder') ??
    defaultConfigDir(pathVariables(env));
  if (configDir.trim() === '') {
    throw usageError('--config-dir is empty', 'Give a folder, or leave the option out for the default one.');
  }
  let network: NetworkSettings | undefined;
  return {
    profile:
      profileName === undefined
        ? undefined
        : { name: parseProfileName(profileName), fromFlag: flags.profile !== undefined },
    configDir,
    configDirFlag: flags.configDir,
    json: flags.json === true,
    verbose: isVerbose(flags, env),
    noInputBecause: flags.noInput
      ? '--no-input'
      : truthy(env.KASH_NO_INPUT)
        ? 'KASH_NO_INPUT is set'
        : ciSet(env.CI)
          ? 'CI is set'
          : undefined,
    network() {
      const given =
        (flags.baseUrl === undefined ? undefined : refuseMangled(flags.baseUrl, '--base-url', 'base URL')) ??
        mangledOr(env, 'KASH_BASE_URL', 'base URL');
      network ??= {
        baseUrl: parseBaseUrl(given ?? DEFAULT_BASE_URL),
        baseUrlGiven: given !== undefined,
        timeoutMs: parseTimeout(flags.timeout ?? variable(env, 'KASH_TIMEOUT')),
      };
      return network;
    },
  };
}

export function parseProfileName(name: string): string {
  if (isProfileName(name)) return name;
  throw usageError(
    `invalid profile name ${quote(name)}`,
    'A profile name is 1-64 letters, digits, ".", "_" or "-" (--profile or KASH_PROFILE).',
  );
}

function parseTimeout(value: string | undefined): number {
  if (value === undefined) return DEFAULT_TIMEOUT_SECONDS * 1000;
  const seconds = /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!(seconds >= 0.1 && seconds <= 3600)) {
    throw usageError(
      `invalid timeout ${quote(value)}`,
      'Give --timeout or KASH_TIMEOUT as a number of seconds from 0.1 to 3600, e.g. --timeout 60.',
    );
  }
  return Math.round(seconds * 1000);
}
