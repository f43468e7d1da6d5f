import type { OptionSpec } from './commands/spec.js';
import type { GlobalFlags } from './settings.js';

/** The global options of ../shared/CLI.md, on the program only: commander reads them before and after the subcommand. */
export const GLOBAL_OPTIONS: OptionSpec[] = [
  { flags: '--profile <name>', description: 'which saved credentials to use (env: KASH_PROFILE, default "default")' },
  { flags: '--base-url <url>', description: 'service root (env: KASH_BASE_URL, default https://kash.click)' },
  { flags: '--config-dir <dir>', description: 'where the credential store lives (env: KASH_CONFIG_DIR)' },
  { flags: '--timeout <seconds>', description: 'per request (env: KASH_TIMEOUT, default 30)' },
  { flags: '--json', description: 'machine-readable result on stdout' },
  { flags: '--no-input', description: 'never prompt (env: KASH_NO_INPUT=1 or CI=true)' },
  {
    flags: '--verbose',
    description: 'requests, statuses and timings on stderr, secrets redacted (env: KASH_DEBUG=1)',
  },
  { flags: '--no-color', description: 'no color (env: NO_COLOR; FORCE_COLOR forces it)' },
];

/**
 * The global options the user typed, from the parsed values and whether each was typed:
 * the one mapping, whether commander parsed the line or the print path's fast lane did.
 */
export function globalFlagsFrom(values: Record<string, unknown>, typed: (key: string) => boolean): GlobalFlags {
  const given = <T>(key: string): T | undefined => (typed(key) ? (values[key] as T) : undefined);
  return {
    profile: given('profile'),
    baseUrl: given('baseUrl'),
    configDir: given('configDir'),
    timeout: given('timeout'),
    json: given('json'),
    verbose: given('verbose'),
    noInput: given<boolean>('input') === false,
    noColor: given<boolean>('color') === false,
  };
}
