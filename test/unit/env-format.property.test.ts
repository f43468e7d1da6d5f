/**
 * Property-based attacks on `kash env`'s formats (../shared/CLI.md, "`env` formats"):
 * "whatever the value holds, evaluating the output in that shell sets the variable to
 * that value exactly and runs nothing else; a value that a format cannot carry safely
 * is refused (exit 2) rather than printed".
 *
 * Attacks tried, each over generated values (full Unicode graphemes, any code point,
 * lone surrogates, C0/C1 controls, the characters shells use internally, and printable
 * ASCII heavy with shell metacharacters, quotes, `$`, backticks, backslashes, `${IFS}`,
 * `$(…)`, `touch pwned` injections, leading dashes):
 *
 * 1. every format refuses, with exit 2, exactly the values holding a character it cannot
 *    carry — no more, no fewer — and one bad variable refuses the whole output;
 * 2. a sweep of every UTF-16 code unit, alone between two letters, in every format;
 * 3. sh output evaluated by bash, dash and zsh, and fish output by fish, in the C and
 *    C.UTF-8 locales: each variable (shell and exported) equals its value byte for byte,
 *    stderr is empty and no command ran (a canary: nothing appears in the empty cwd);
 * 4. dotenv read back by Node's `util.parseEnv`, json by `JSON.parse`;
 * 5. powershell read back as PowerShell's tokenizer reads single-quoted strings, cmd verbatim.
 *
 * Shell runs are batched: one script of up to 200 values per shell and locale per run.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv, promisify } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { ExitCode, KashError } from '../../src/errors.js';
import { ENV_FORMATS, type EnvFormat, formatEnv } from '../../src/output/env-format.js';
import { type Requirement, requires } from '../support/requires.js';

const run = promisify(execFile);

/** `KASH_PROPERTY_SCALE=50 npx vitest run …` searches fifty times harder than the quick default. */
const SCALE = Math.max(1, Number(process.env.KASH_PROPERTY_SCALE ?? 1) || 1);
const runs = (numRuns: number) => Math.ceil(numRuns * SCALE);
if (SCALE > 1) vi.setConfig({ testTimeout: 10_000 * SCALE });

/** The file a smuggled command would create in the shell's otherwise empty working directory. */
const CANARY = 'pwned';

// ---------------------------------------------------------------------------
// What the contract says each format cannot carry, restated independently of src/.

/** C0 controls, DEL, C1 controls, U+2028 and U+2029: what `hasControlChars` must find. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;
/** A lone surrogate has no UTF-8 form: it does not survive a UTF-8 round trip. */
const illFormed = (value: string) => Buffer.from(value, 'utf8').toString('utf8') !== value;
/** No environment variable can hold a NUL or a lone surrogate, whatever the format. */
const neverCarried = (value: string) => value.includes('\u0000') || illFormed(value);

const CANNOT_CARRY: Record<EnvFormat, (value: string) => boolean> = {
  sh: neverCarried,
  fish: neverCarried,
  json: neverCarried,
  powershell: (value) => neverCarried(value) || CONTROL.test(value),
  cmd: (value) => neverCarried(value) || CONTROL.test(value) || /["%!^]/u.test(value),
  dotenv: (value) => neverCarried(value) || CONTROL.test(value) || /["\\$`]/u.test(value),
};
const carries = (format: EnvFormat, value: string) => !CANNOT_CARRY[format](value);

// ---------------------------------------------------------------------------
// Generated values.

const char = (code: number) => String.fromCodePoint(code);
const METACHARS = [...'\'"$`\\;|&<>(){}[]*?!#~%^=,.:/@+- ', '\n', '\t', '\r'];
const SNIPPETS = [
  '${IFS}',
  '$IFS',
  '$0',
  '$1',
  '$HOME',
  '$argv',
  '$status',
  `$(touch ${CANARY})`,
  `\`touch ${CANARY}\``,
  `(touch ${CANARY})`,
  `;touch ${CANARY};`,
  `&& touch ${CANARY}`,
  `| touch ${CANARY}`,
  `>${CANARY}`,
  `'; touch ${CANARY}; '`,
  `"; touch ${CANARY}; "`,
  `\\'; touch ${CANARY}; #`,
  "'\\''",
  "\\'",
  '\\\\',
  '\\n',
  '\\x41',
  "$'\\n'",
  '%PATH%',
  '!!',
  '#',
  '\n#',
  '\nEOF\n',
  '{a,b}',
  '~root',
  '\u2018',
  '\u2019',
  '\u201a',
  '\u201b',
  '\u201c',
  '\u00a0',
];
/**
 * Characters that shells use internally: fish's encoding of raw bytes (U+F600–U+F6FF),
 * zsh's Meta byte (0x83), dash's CTL bytes (0x81–0x88, here inside UTF-8 encodings),
 * noncharacters, the last code point.
 */
const INTERNAL = [
  '\uf600',
  '\uf6ff',
  '\uf680',
  '\u0083',
  '\u0081',
  '\u0088',
  '\u0101',
  '\u0141',
  '\u0208',
  '\ufffe',
  '\uffff',
  '\ufdd0',
  '\u{10ffff}',
];
const LEADING = ['', '', '-', '--', '-e ', '-n ', '-gx ', '--help', '-E'];

/** Printable ASCII, mostly shell metacharacters and injection snippets, sometimes a leading dash. */
const shellValue = fc
  .tuple(
    fc.constantFrom(...LEADING),
    fc.string({
      unit: fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...METACHARS) },
        { weight: 2, arbitrary: fc.constantFrom(...SNIPPETS) },
        { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
        { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
        { weight: 1, arbitrary: fc.constantFrom(...INTERNAL) },
      ),
      maxLength: 20,
    }),
  )
  .map(([lead, rest]) => lead + rest);

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code));
const controlChar = fc.oneof(fc.integer({ min: 0, max: 0x1f }), fc.integer({ min: 0x7f, max: 0x9f })).map(char);

/** Mostly harmless text with controls, line separators, NULs, lone surrogates and the formats' special characters. */
const hostileValue = fc.string({
  unit: fc.oneof(
    { weight: 6, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
    { weight: 3, arbitrary: controlChar },
    { weight: 2, arbitrary: fc.constantFrom('\u2028', '\u2029', '\u0085', '\r\n', '\u001b[31m', '\u001b]0;x\u0007') },
    { weight: 2, arbitrary: fc.constantFrom('"', '%', '!', '^', '\\', '$', '`', "'") },
    { weight: 1, arbitrary: fc.constant('\u0000') },
    { weight: 1, arbitrary: loneSurrogate },
  ),
  maxLength: 12,
});

const anyValue = fc.oneof(
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 4, arbitrary: shellValue },
  { weight: 2, arbitrary: hostileValue },
);

/** A batch of values for one shell run. */
const batch = fc.array(anyValue, { minLength: 150, maxLength: 200 });

const varsOf = (values: readonly string[]) => values.map((value, i) => [`KASH_V${i}`, value] as const);

function refusal(act: () => unknown): KashError | undefined {
  try {
    act();
  } catch (error) {
    if (error instanceof KashError) return error;
    throw error;
  }
  return undefined;
}

// ---------------------------------------------------------------------------

describe('formatEnv refuses exactly what a format cannot carry', () => {
  it.each(ENV_FORMATS)(
    '%s: any value is printed if and only if the contract lets the format carry it, else exit 2',
    (format) => {
      fc.assert(
        fc.property(anyValue, (value) => {
          const error = refusal(() => formatEnv(format, [['KASH_APIKEY', value]]));
          if (carries(format, value)) {
            expect(error, `wrongly refused ${JSON.stringify(value)}`).toBeUndefined();
          } else {
            expect(error, `printed ${JSON.stringify(value)}, which ${format} cannot carry`).toBeDefined();
            expect(error?.exitCode).toBe(ExitCode.usage);
          }
        }),
        { numRuns: runs(400) },
      );
    },
  );

  it.each(ENV_FORMATS)('%s: one value it cannot carry refuses the whole output, whatever surrounds it', (format) => {
    const good = anyValue.filter((value) => carries(format, value));
    const bad = anyValue.filter((value) => !carries(format, value));
    fc.assert(
      fc.property(fc.array(good, { maxLength: 4 }), bad, fc.array(good, { maxLength: 4 }), (before, worst, after) => {
        const error = refusal(() => formatEnv(format, varsOf([...before, worst, ...after])));
        expect(error?.exitCode).toBe(ExitCode.usage);
      }),
      { numRuns: runs(100) },
    );
  });

  it('sweep: every UTF-16 code unit, alone between two letters, is refused exactly where the contract says, in every format', () => {
    const wrong: string[] = [];
    for (let code = 0; code <= 0xffff; code++) {
      const value = `a${String.fromCharCode(code)}b`;
      for (const format of ENV_FORMATS) {
        const refused = refusal(() => formatEnv(format, [['KASH_APIKEY', value]])) !== undefined;
        if (refused !== !carries(format, value))
          wrong.push(`${format} U+${code.toString(16).padStart(4, '0')} refused=${refused}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});

describe('evaluated by the real shells', () => {
  const locales = { C: {}, 'C.UTF-8': { LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' } } as const;

  /** Evaluates the output as users do, then prints each variable NUL-terminated, then the exported environment. */
  const printAll = (count: number, quote: (name: string) => string) =>
    `printf '%s\\0' ${Array.from({ length: count }, (_, i) => quote(`KASH_V${i}`)).join(' ')}`;
  const shells: Array<{ shell: string; need: Requirement; format: EnvFormat; args: (count: number) => string[] }> = [
    {
      shell: '/usr/bin/bash',
      need: 'bash',
      format: 'sh',
      args: (n) => [
        '--norc',
        '--noprofile',
        '-c',
        `eval "$(cat "$1")" && ${printAll(n, (v) => `"$${v}"`)} && exec env -0`,
        'bash',
      ],
    },
    {
      shell: '/usr/bin/dash',
      need: 'dash',
      format: 'sh',
      args: (n) => ['-c', `eval "$(cat "$1")" && ${printAll(n, (v) => `"$${v}"`)} && exec env -0`, 'dash'],
    },
    {
      shell: '/usr/bin/zsh',
      need: 'zsh',
      format: 'sh',
      args: (n) => ['-f', '-c', `eval "$(cat "$1")" && ${printAll(n, (v) => `"$${v}"`)} && exec env -0`, 'zsh'],
    },
    {
      shell: '/usr/bin/fish',
      need: 'fish',
      format: 'fish',
      args: (n) => [
        '--no-config',
        '-c',
        `cat $argv[1] | source; and ${printAll(n, (v) => `"$${v}"`)}; and exec env -0`,
      ],
    },
  ];

  /** Bytes as a string of one char per byte, so that comparisons are byte for byte. */
  const bytesOf = (value: string) => Buffer.from(value, 'utf8').toString('latin1');
  const textOf = (bytes: string | undefined) =>
    bytes === undefined ? undefined : Buffer.from(bytes, 'latin1').toString('utf8');

  /**
   * Runs `shell` on `text` in an empty working directory; returns what it printed (as
   * bytes, see bytesOf), its stderr and the files then in that directory.
   */
  async function evaluate(shell: string, args: string[], text: string, locale: Record<string, string>) {
    const dir = await mkdtemp(join(tmpdir(), 'kash-envprop-'));
    try {
      const file = join(dir, 'env.txt');
      const cwd = join(dir, 'cwd');
      const home = join(dir, 'home'); // fish writes its settings there
      await Promise.all([writeFile(file, text), mkdir(cwd), mkdir(home)]);
      const { stdout, stderr, code } = await run(shell, [...args, file], {
        cwd,
        env: { PATH: process.env.PATH, HOME: home, ...locale },
        timeout: 10_000,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'latin1',
      }).then(
        (done) => ({ ...done, code: 0 }),
        // A failing shell is an assertion failure below, reported with its stderr.
        (error: { stdout?: string; stderr?: string; code?: unknown }) => ({
          stdout: error.stdout ?? '',
          stderr: error.stderr ?? String(error),
          code: error.code,
        }),
      );
      return { stdout, stderr: textOf(stderr), code, files: await readdir(cwd) };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  for (const { shell, need, format, args } of shells)
    requires(need).it(
      `${shell}: each variable equals its value byte for byte, nothing else runs, stderr is empty`,
      async () => {
        await fc.assert(
          fc.asyncProperty(batch, async (generated) => {
            const values = generated.filter((value) => carries(format, value));
            const vars = varsOf(values);
            const text = formatEnv(format, vars);
            for (const [locale, env] of Object.entries(locales)) {
              const { stdout, stderr, code, files } = await evaluate(shell, args(values.length), text, env);
              expect({ code, stderr }, `${shell} in the ${locale} locale`).toEqual({ code: 0, stderr: '' });
              const fields = stdout.split('\0');
              const printed = fields.slice(0, values.length);
              const exported = Object.fromEntries(
                fields
                  .slice(values.length)
                  .filter((entry) => entry.startsWith('KASH_'))
                  .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
              );
              // Name the values that went wrong, rather than shrink a batch through hundreds of shell runs.
              const wrong = values.flatMap((value, i) =>
                printed[i] === bytesOf(value) && exported[`KASH_V${i}`] === bytesOf(value)
                  ? []
                  : [
                      {
                        value,
                        line: formatEnv(format, [[`KASH_V${i}`, value]]),
                        shellVariable: textOf(printed[i]),
                        exported: textOf(exported[`KASH_V${i}`]),
                      },
                    ],
              );
              expect(wrong, `${shell} in the ${locale} locale`).toEqual([]);
              expect(
                Object.keys(exported).sort(),
                `${shell} in the ${locale} locale exports exactly the variables`,
              ).toEqual(vars.map(([name]) => name).sort());
              expect(files, `${shell} in the ${locale} locale: a command ran`).toEqual([]);
            }
          }),
          { numRuns: runs(4), endOnFailure: true },
        );
      },
      20_000 * SCALE,
    );

  requires('bash').it(
    'the canary and the comparison catch a format that is not safe (checked against a naive double-quoting sh format)',
    async () => {
      const naive = `export KASH_V0="$(touch ${CANARY})"\n`;
      const { files } = await evaluate(
        '/usr/bin/bash',
        ['--norc', '--noprofile', '-c', 'eval "$(cat "$1")"', 'bash'],
        naive,
        {},
      );
      expect(files).toContain(CANARY);
    },
  );
});

describe('read back by parsers', () => {
  it('dotenv: util.parseEnv gives back every value that dotenv accepts', () => {
    fc.assert(
      fc.property(fc.array(anyValue, { maxLength: 30 }), (generated) => {
        const vars = varsOf(generated.filter((value) => carries('dotenv', value)));
        expect(parseEnv(formatEnv('dotenv', vars))).toEqual(Object.fromEntries(vars));
      }),
      { numRuns: runs(300) },
    );
  });

  it('json: JSON.parse gives back every value, and the document is one line', () => {
    fc.assert(
      fc.property(fc.array(anyValue, { maxLength: 30 }), (generated) => {
        const vars = varsOf(generated.filter((value) => carries('json', value)));
        const text = formatEnv('json', vars);
        expect(text.indexOf('\n')).toBe(text.length - 1);
        expect(JSON.parse(text)).toEqual(Object.fromEntries(vars));
      }),
      { numRuns: runs(300) },
    );
  });

  it('powershell: each line is one statement whose single-quoted string reads back as the value', () => {
    fc.assert(
      fc.property(fc.array(anyValue, { maxLength: 30 }), (generated) => {
        const values = generated.filter((value) => carries('powershell', value));
        const lines = formatEnv('powershell', varsOf(values)).split('\n');
        expect(lines.pop()).toBe('');
        expect(lines.map(readPowerShellAssignment)).toEqual(values.map((value, i) => [`KASH_V${i}`, value]));
      }),
      { numRuns: runs(300) },
    );
  });

  it('cmd: each value stands verbatim inside set "NAME=value", one line each', () => {
    fc.assert(
      fc.property(fc.array(anyValue, { maxLength: 30 }), (generated) => {
        const values = generated.filter((value) => carries('cmd', value));
        const lines = formatEnv('cmd', varsOf(values)).split('\n');
        expect(lines.pop()).toBe('');
        expect(lines).toEqual(values.map((value, i) => `set "KASH_V${i}=${value}"`));
      }),
      { numRuns: runs(300) },
    );
  });
});

/**
 * `$env:NAME = '…'` as PowerShell's tokenizer reads it: any of its five single quotes
 * ends the string unless another of them follows, and such a pair stands for the second.
 */
function readPowerShellAssignment(line: string): [string, string] {
  const quotes = "'\u2018\u2019\u201a\u201b";
  const start = /^\$env:([A-Za-z_][A-Za-z0-9_]*) = '/u.exec(line);
  if (!start) throw new Error(`not an assignment: ${JSON.stringify(line)}`);
  const isQuote = (c: string | undefined) => c !== undefined && quotes.includes(c);
  let value = '';
  for (let i = start[0].length; i < line.length; i++) {
    if (!isQuote(line[i])) value += line[i];
    else if (isQuote(line[i + 1])) value += line[++i];
    else if (i === line.length - 1) return [start[1] ?? '', value];
    else throw new Error(`the string ends before the line does: ${JSON.stringify(line)}`);
  }
  throw new Error(`unterminated string: ${JSON.stringify(line)}`);
}
