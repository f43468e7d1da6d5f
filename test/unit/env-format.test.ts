import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv, promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ExitCode, KashError } from '../../src/errors.js';
import { ENV_FORMATS, type EnvFormat, formatEnv, parseEnvFormat, parsePrefix } from '../../src/output/env-format.js';
import { type Requirement, requires } from '../support/requires.js';

const run = promisify(execFile);

/** The file that a command smuggled in through a value creates in the shell's otherwise empty working directory. */
const CANARY = 'pwned';

const NASTY = [
  '',
  'plain',
  "ab'c",
  "'",
  "''",
  "'\\''",
  'a"b',
  '"',
  '$HOME',
  '${HOME}',
  `$(touch ${CANARY})`,
  `\`touch ${CANARY}\``,
  `(touch ${CANARY})`,
  `'; touch ${CANARY}; '`,
  `"; touch ${CANARY}; "`,
  `\\'; touch ${CANARY} #`,
  `>${CANARY}`,
  '\\',
  'a\\b',
  '\\n',
  ' spaces  around ',
  ';|&',
  `a; touch ${CANARY}`,
  `a && touch ${CANARY} &`,
  'line\nbreak',
  `\ntouch ${CANARY}\n`,
  'trailing newlines\n\n',
  '\r\n',
  'tab\there',
  'ünïcødé ✓ 鍵 🔑',
  '\u2018\u2019\u201a\u201b\u201c\u201d',
  "'\u2019'",
  '-e',
  '--help',
  '-gx',
  '%PATH%',
  '!x',
  '!!',
  '^',
  '#comment',
  '* ? [a] ~ {a,b}',
  'a=b',
  '\u0001\u001b[31m\u007f\u0085\u2028\u2029',
];

const varsOf = (values: readonly string[]) => values.map((value, i) => [`KASH_V${i}`, value] as const);

/** What the contract says each format must refuse, restated so that the tests do not borrow the implementation's lists. */
const CONTROLS = String.raw`\u0000-\u001f\u007f-\u009f\u2028\u2029`;
const FORBIDDEN: Record<EnvFormat, RegExp> = {
  sh: /\u0000/u,
  fish: /\u0000/u,
  json: /\u0000/u,
  powershell: new RegExp(`[${CONTROLS}]`, 'u'),
  cmd: new RegExp(`["%!^${CONTROLS}]`, 'u'),
  dotenv: new RegExp(`["\\\\$\`${CONTROLS}]`, 'u'),
};
const carries = (format: EnvFormat, value: string) => !FORBIDDEN[format].test(value);

/** Every pairing of `formats` with `items`, for tables. */
const pairs = <T>(formats: readonly EnvFormat[], items: readonly T[]) =>
  formats.flatMap((format) => items.map((item): [EnvFormat, T] => [format, item]));

function refusal(act: () => unknown): KashError {
  try {
    act();
  } catch (error) {
    if (error instanceof KashError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('parseEnvFormat', () => {
  it.each(ENV_FORMATS)('accepts %s', (format) => {
    expect(parseEnvFormat(format)).toBe(format);
  });

  it.each([
    ['JSON', 'json'],
    ['Sh', 'sh'],
    ['PowerShell', 'powershell'],
  ])('matches %s without regard to case: %s', (value, format) => {
    expect(parseEnvFormat(value)).toBe(format);
  });

  it.each(['', 'bash', 'yaml', ' sh'])('refuses %j, naming the valid formats', (value) => {
    const error = refusal(() => parseEnvFormat(value));
    expect(error.exitCode).toBe(ExitCode.usage);
    for (const format of ENV_FORMATS) expect(error.message).toContain(format);
  });
});

describe('parsePrefix', () => {
  it.each(['', 'KASH_', '_', 'a1_', 'MY_APP_'])('accepts %j', (value) => {
    expect(parsePrefix(value)).toBe(value);
  });

  it.each(['1', '1A_', 'A-B', 'A B', '$X', 'É_', 'a.b', '-', 'A\n'])('refuses %j', (value) => {
    expect(refusal(() => parsePrefix(value)).exitCode).toBe(ExitCode.usage);
  });
});

describe('formatEnv', () => {
  it.each<[EnvFormat, string, string]>([
    ['sh', "ab'c", "export KASH_APIKEY='ab'\\''c'\n"],
    ['sh', 'a\nb', "export KASH_APIKEY='a\nb'\n"],
    ['fish', "ab'c", "set -gx KASH_APIKEY 'ab\\'c'\n"],
    ['fish', 'a\\b', "set -gx KASH_APIKEY 'a\\\\b'\n"],
    ['powershell', "ab'c", "$env:KASH_APIKEY = 'ab''c'\n"],
    [
      'powershell',
      'a\u2018b\u2019c\u201ad\u201be',
      "$env:KASH_APIKEY = 'a\u2018\u2018b\u2019\u2019c\u201a\u201ad\u201b\u201be'\n",
    ],
    ['powershell', '$x "y"', '$env:KASH_APIKEY = \'$x "y"\'\n'],
    ['cmd', 'abc', 'set "KASH_APIKEY=abc"\n'],
    ['cmd', 'a&b|c<d>e', 'set "KASH_APIKEY=a&b|c<d>e"\n'],
    ['dotenv', "ab'c", 'KASH_APIKEY="ab\'c"\n'],
    ['dotenv', 'a #b', 'KASH_APIKEY="a #b"\n'],
    ['json', 'ab"c', '{"KASH_APIKEY":"ab\\"c"}\n'],
  ])('%s writes %j as %j', (format, value, expected) => {
    expect(formatEnv(format, [['KASH_APIKEY', value]])).toBe(expected);
  });

  it.each<[EnvFormat, string]>([
    ['sh', "export KASH_APIKEY='ab'\\''c'\nexport KASH_SHOPID='42'\n"],
    ['fish', "set -gx KASH_APIKEY 'ab\\'c'\nset -gx KASH_SHOPID '42'\n"],
    ['powershell', "$env:KASH_APIKEY = 'ab''c'\n$env:KASH_SHOPID = '42'\n"],
    ['cmd', 'set "KASH_APIKEY=ab\'c"\nset "KASH_SHOPID=42"\n'],
    ['dotenv', 'KASH_APIKEY="ab\'c"\nKASH_SHOPID="42"\n'],
    ['json', '{"KASH_APIKEY":"ab\'c","KASH_SHOPID":"42"}\n'],
  ])('%s writes every variable, in order', (format, expected) => {
    expect(
      formatEnv(format, [
        ['KASH_APIKEY', "ab'c"],
        ['KASH_SHOPID', '42'],
      ]),
    ).toBe(expected);
  });

  const secret = 's3cr3t';
  it.each([
    ...pairs(ENV_FORMATS, ['\u0000', '\ud800', '\udc00x']),
    ...pairs(['cmd'], ['"', '%PATH%', '!x', '^', '\n', '\r', '\t', '\u001b', '\u007f', '\u0085', '\u2028']),
    ...pairs(['dotenv'], ['"', '\\', '$HOME', '`x`', '\n', '\r', '\t', '\u0001', '\u2029']),
    ...pairs(['powershell'], ['\n', '\r', '\r\n', '\u0085', '\u2028', '\u2029']),
  ])('%s refuses a value holding %j, naming the variable and format but not the value', (format, bad) => {
    const error = refusal(() => formatEnv(format, [['KASH_APIKEY', `${secret}${bad}`]]));
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toContain('KASH_APIKEY');
    expect(error.message).toContain(format);
    expect(`${error.message} ${error.hint ?? ''}`).not.toContain(secret);
  });

  it.each<EnvFormat>(['powershell', 'cmd', 'dotenv'])('%s suggests another format when it refuses', (format) => {
    expect(refusal(() => formatEnv(format, [['KASH_APIKEY', '"\n']])).hint).toContain('--format json');
  });

  it.each(pairs(ENV_FORMATS, ['', '1A', 'A-B', 'A B', 'A=B', 'Ä', 'A;B', 'A\n']))(
    '%s refuses the variable name %j',
    (format, name) => {
      expect(refusal(() => formatEnv(format, [[name, 'v']])).exitCode).toBe(ExitCode.usage);
    },
  );

  it.each(ENV_FORMATS)('%s carries exactly the nasty values that the spec does not forbid it', (format) => {
    for (const value of NASTY) {
      const act = () => formatEnv(format, [['KASH_APIKEY', value]]);
      if (carries(format, value)) expect(act, JSON.stringify(value)).not.toThrow();
      else expect(act, JSON.stringify(value)).toThrow(KashError);
    }
  });
});

describe('round trips', () => {
  const SH_SCRIPT = 'eval "$(cat "$1")" && exec env -0';
  const FISH_SCRIPT = 'cat $argv[1] | source; and exec env -0';
  const BASH_ARGS = ['--norc', '--noprofile', '-c', SH_SCRIPT, 'bash'];
  const shells: Array<[string, EnvFormat, string[], Requirement]> = [
    ['/usr/bin/bash', 'sh', BASH_ARGS, 'bash'],
    ['/usr/bin/dash', 'sh', ['-c', SH_SCRIPT, 'dash'], 'dash'],
    ['/usr/bin/zsh', 'sh', ['-f', '-c', SH_SCRIPT, 'zsh'], 'zsh'],
    ['/usr/bin/fish', 'fish', ['--no-config', '-c', FISH_SCRIPT], 'fish'],
  ];

  /**
   * Runs `shell` on `text` as its users would, in an empty working directory; returns
   * the KASH_ variables it exported and the files then in that directory.
   */
  async function evaluate(shell: string, args: string[], text: string) {
    const dir = await mkdtemp(join(tmpdir(), 'kash-env-'));
    try {
      const file = join(dir, 'env.txt');
      const cwd = join(dir, 'cwd');
      // Its own HOME, as fish writes its settings there.
      const home = join(dir, 'home');
      await Promise.all([writeFile(file, text), mkdir(cwd), mkdir(home)]);
      const { stdout, stderr } = await run(shell, [...args, file], {
        cwd,
        env: { PATH: process.env.PATH, HOME: home },
        timeout: 10_000,
      });
      const exported = stdout
        .split('\0')
        .filter((entry) => entry.startsWith('KASH_'))
        .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]);
      return { exported: Object.fromEntries(exported), stderr, files: await readdir(cwd) };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  requires('bash').it('the canary catches a command smuggled into the output', async () => {
    const { files } = await evaluate('/usr/bin/bash', BASH_ARGS, `export KASH_V0=$(touch ${CANARY})\n`);
    expect(files).toContain(CANARY);
  });

  for (const [shell, format, args, need] of shells)
    requires(need).it(`${shell} sets each nasty value exactly and runs nothing else`, async () => {
      const vars = varsOf(NASTY);
      const { exported, stderr, files } = await evaluate(shell, args, formatEnv(format, vars));
      expect(exported).toEqual(Object.fromEntries(vars));
      expect(stderr).toBe('');
      expect(files).toEqual([]);
    });

  it('dotenv reads back through util.parseEnv', () => {
    const vars = varsOf(NASTY.filter((value) => carries('dotenv', value)));
    expect(parseEnv(formatEnv('dotenv', vars))).toEqual(Object.fromEntries(vars));
  });

  it('json reads back through JSON.parse, on one line', () => {
    const vars = varsOf(NASTY);
    const text = formatEnv('json', vars);
    expect(text.indexOf('\n')).toBe(text.length - 1);
    expect(JSON.parse(text)).toEqual(Object.fromEntries(vars));
  });

  it('powershell reads back as PowerShell parses single-quoted strings, one statement a line', () => {
    const values = NASTY.filter((value) => carries('powershell', value));
    const lines = formatEnv('powershell', varsOf(values)).split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map(readPowerShellAssignment)).toEqual(values);
  });

  it('cmd keeps the value verbatim inside set "NAME=value"', () => {
    const values = NASTY.filter((value) => carries('cmd', value));
    const lines = formatEnv('cmd', varsOf(values)).split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toEqual(values.map((value, i) => `set "KASH_V${i}=${value}"`));
  });
});

/**
 * The value of `$env:NAME = '…'` as PowerShell's tokenizer reads it: any of its five
 * single quotes ends the string unless another follows, and such a pair stands for the second.
 */
function readPowerShellAssignment(line: string): string {
  const quotes = "'\u2018\u2019\u201a\u201b";
  const start = /^\$env:[A-Za-z_][A-Za-z0-9_]* = '/u.exec(line);
  if (!start) throw new Error(`not an assignment: ${line}`);
  let value = '';
  const isQuote = (char: string | undefined) => char !== undefined && quotes.includes(char);
  for (let i = start[0].length; i < line.length; i++) {
    if (!isQuote(line[i])) value += line[i];
    else if (isQuote(line[i + 1])) value += line[++i];
    else if (i === line.length - 1) return value;
    else throw new Error(`the string ends before the line does: ${line}`);
  }
  throw new Error(`unterminated string: ${line}`);
}
