import type { Command } from 'commander';
import { parseBaseUrl } from './api/base-url.js';
import { usageError } from './errors.js';
import { quote } from './output/sanitize.js';
import { defaultConfigDir } from './store/paths.js';

const DEFAULT_BASE_URL = 'https://kash.click';
const DEFAULT_TIMEOUT_SECONDS = 30;
const PROFILE_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** The global options of ../shared/CLI.md, resolved: flag, then variable, then default. */
export interface Settings {
  profile: string;
  baseUrl: string;
  configDir: string;
  timeoutMs: number;
  json: boolean;
  verbose: boolean;
  /** False when --no-input, KASH_NO_INPUT=1 or CI=true forbid prompting. */
  inputAllowed: boolean;
  colour: boolean;
}

/**
 * A global option may be given before or after the subcommand, so look for a value
 * the user typed anywhere from the subcommand up to the program.
 */
function typed<T>(command: Command, key: string): T | undefined {
  for (let c: Command | null = command; c; c = c.parent) {
    if (c.getOptionValueSource(key) === 'cli') return c.getOptionValue(key) as T;
  }
  return undefined;
}

const nonEmpty = (value: string | undefined) => (value === undefined || value === '' ? undefined : value);
export const truthy = (value: string | undefined) => value !== undefined && /^(1|true|yes)$/i.test(value);

export function resolveSettings(command: Command, env: NodeJS.ProcessEnv): Settings {
  const profile = typed<string>(command, 'profile') ?? nonEmpty(env.KASH_PROFILE) ?? 'default';
  const baseUrl = typed<string>(command, 'baseUrl') ?? nonEmpty(env.KASH_BASE_URL) ?? DEFAULT_BASE_URL;
  const configDir = typed<string>(command, 'configDir') ?? nonEmpty(env.KASH_CONFIG_DIR) ?? defaultConfigDir(env);
  if (configDir.trim() === '')
    throw usageError('--config-dir is empty', 'Give a folder, or leave the option out for the default one.');
  const timeout = typed<string>(command, 'timeout') ?? nonEmpty(env.KASH_TIMEOUT);
  return {
    profile: parseProfileName(profile),
    baseUrl: parseBaseUrl(baseUrl),
    configDir,
    timeoutMs: parseTimeout(timeout),
    json: typed<boolean>(command, 'json') ?? false,
    verbose: typed<boolean>(command, 'verbose') ?? truthy(env.KASH_DEBUG),
    inputAllowed: typed<boolean>(command, 'input') ?? !(truthy(env.KASH_NO_INPUT) || env.CI === 'true'),
    colour: typed<boolean>(command, 'color') ?? true,
  };
}

export function parseProfileName(name: string): string {
  if (PROFILE_NAME.test(name)) return name;
  throw usageError(
    `invalid profile name ${quote(name)}`,
    'A profile name is 1-64 letters, digits, ".", "_" or "-" (--profile or KASH_PROFILE).',
  );
}

function parseTimeout(value: string | undefined): number {
  if (value === undefined) return DEFAULT_TIMEOUT_SECONDS * 1000;
  const seconds = /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!(seconds > 0 && seconds <= 3600)) {
    throw usageError(
      `invalid timeout ${quote(value)}`,
      'Give --timeout or KASH_TIMEOUT as a number of seconds above 0 and at most 3600, e.g. --timeout 60.',
    );
  }
  return Math.round(seconds * 1000);
}
