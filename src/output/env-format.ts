import { usageError } from '../errors.js';
import { hasControlChars, quote } from '../sanitize.js';

export const ENV_FORMATS = ['sh', 'fish', 'powershell', 'cmd', 'dotenv', 'json'] as const;
export type EnvFormat = (typeof ENV_FORMATS)[number];

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/u;

/**
 * No environment variable can hold a NUL (it ends the C string) or an unpaired
 * surrogate (it has no UTF-8 form, so it would be printed as U+FFFD). With the u flag
 * the range matches only unpaired ones; spelled out, as \p{Cs} costs a lookup at every start.
 */
const NEVER_CARRIED = /[\u0000\ud800-\udfff]/u;

/** What each format cannot carry safely, beyond NEVER_CARRIED. */
const UNSAFE: Record<EnvFormat, (value: string) => boolean> = {
  // Inside single quotes (and with JSON's escapes) everything else is literal, line breaks included.
  sh: () => false,
  fish: () => false,
  json: () => false,
  // `| Invoke-Expression` receives the output line by line: a line break would end
  // the statement early and run the next line as a command of its own.
  powershell: hasControlChars,
  // Inside the quotes `%` still expands, as do `!` and the `^` escape under delayed
  // expansion; a `"` would end the quotes.
  cmd: (value) => hasControlChars(value) || /["%!^]/u.test(value),
  // Parsers disagree on escapes: docker compose and dotenv-expand interpolate `$`,
  // some treat `\` as an escape or a backtick as a quote.
  dotenv: (value) => hasControlChars(value) || /["\\$`]/u.test(value),
};

type LineFormat = Exclude<EnvFormat, 'json'>;

const LINE: Record<LineFormat, (name: string, value: string) => string> = {
  sh: (name, value) => `export ${name}='${value.replaceAll("'", `'\\''`)}'`,
  // In fish single quotes, `\` escapes `'` and itself.
  fish: (name, value) => `set -gx ${name} '${value.replace(/[\\']/gu, '\\$&')}'`,
  // PowerShell also ends single-quoted strings at the typographic single quotes.
  powershell: (name, value) => `$env:${name} = '${value.replace(/['\u2018-\u201b]/gu, '$&$&')}'`,
  cmd: (name, value) => `set "${name}=${value}"`,
  dotenv: (name, value) => `${name}="${value}"`,
};

/** Matched without regard to case: `JSON` is `json`. */
export function parseEnvFormat(value: string): EnvFormat {
  const format = ENV_FORMATS.find((known) => known === value.toLowerCase());
  if (format === undefined) {
    throw usageError(`--format must be one of ${ENV_FORMATS.join(', ')}; got ${quote(value)}`);
  }
  return format;
}

export function parsePrefix(value: string): string {
  if (value !== '' && !IDENTIFIER.test(value)) {
    throw usageError(
      `--prefix must be empty or a letter or underscore followed by letters, digits or underscores; got ${quote(value)}`,
    );
  }
  return value;
}

/** The text that sets `vars` in `format`; refuses (exit 2) any variable it cannot carry exactly. */
export function formatEnv(format: EnvFormat, vars: ReadonlyArray<readonly [name: string, value: string]>): string {
  for (const [name, value] of vars) assertCarried(format, name, value);
  if (format === 'json') return `${JSON.stringify(Object.fromEntries(vars))}\n`;
  return vars.map(([name, value]) => `${LINE[format](name, value)}\n`).join('');
}

// Messages name the variable and the format, never the value: it is a secret.
function assertCarried(format: EnvFormat, name: string, value: string): void {
  if (!IDENTIFIER.test(name)) {
    throw usageError(`${quote(name)} is not a valid environment variable name`);
  }
  if (NEVER_CARRIED.test(value)) {
    throw usageError(
      `cannot print ${name} in the ${format} format: its value holds a NUL or an unpaired surrogate, which no environment variable can carry`,
    );
  }
  if (UNSAFE[format](value)) {
    throw usageError(
      `cannot print ${name} in the ${format} format: its value holds characters that format cannot carry safely`,
      'use --format json, or `kash exec -- <command>` to pass the credentials without a shell',
    );
  }
}
