// Bad values for every input kash takes, end to end: empty, huge, not UTF-8 and holding
// control characters, in every flag, variable and piped input; timeouts that are not
// numbers of seconds; profile names that look like paths; config folders that cannot be
// folders. Each must end in one clear `error:` line (plus at most a hint) with a
// documented exit code: never 1, never a stack trace, and nothing sent to the service
// when the value can be refused before any request.
//
// How the values travel:
// - Huge: 1 MB through standard input. A single argv or environment string is capped by
//   Linux at 128 KiB (MAX_ARG_STRLEN; more is E2BIG at spawn), so flags and variables
//   get 100 000 characters, far past any sane value and still within that cap.
// - Not UTF-8: raw bytes through standard input; for flags and variables, through
//   `sh -c` and printf, since Node's spawn only passes strings, encoded as UTF-8.
//   (Node decodes argv and the environment with U+FFFD for bad bytes, so kash sees
//   U+FFFD there, and for a login or password it cannot tell a typo from a bad byte.)
// - NUL: no argv or environment string can hold one (C strings; spawn refuses it), so
//   a NUL is tried through standard input only.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { collect, KASH_BIN, useE2e, withHygiene } from '../support/e2e.js';
import { accounts, type Emulator, otpEmails, startEmulator } from '../support/emulator.js';
import { passwordCredentials, writeStore } from '../support/store-fixture.js';
import { copyConfigDir, listDir, storeSnapshot } from '../support/store-snapshot.js';

const { demo, shop2 } = accounts;
const ONE = otpEmails.one.email;
const TWO = otpEmails.two.email;

vi.setConfig({ testTimeout: 60_000, maxConcurrency: 6 });

// The file's emulator serves the template's login; each attempt has an emulator of its own.
const e2e = useE2e();
const { freshDir } = e2e;

// ---------------------------------------------------------------------------------------
// Running kash with arguments, variables and input that may not be UTF-8

type Arg = string | Buffer;

interface Raw {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface RawOptions {
  env?: Record<string, Arg>;
  input?: Arg;
}

/** Spawns are CPU-bound on a small machine: a few at a time finish sooner than all at once. */
const MAX_SPAWNS = 6;
let running = 0;
const waiting: Array<() => void> = [];
async function slot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= MAX_SPAWNS) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await work();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

/** A shell word that expands to exactly these bytes (no NUL, no trailing line break: $(…) would lose them). */
function shellWord(arg: Arg): string {
  if (typeof arg === 'string') return quote(arg);
  if (arg.includes(0) || arg.at(-1) === 0x0a)
    throw new Error('a shell word cannot carry a NUL or a trailing line break');
  return `"$(printf '${[...arg].map((byte) => `\\${byte.toString(8).padStart(3, '0')}`).join('')}')"`;
}

/**
 * Runs kash; through `sh -c` when an argument or variable is raw bytes. The run is checked
 * for secret hygiene as runKash checks it.
 */
function kashRaw(args: Arg[], options: RawOptions = {}): Promise<Raw> {
  return slot(
    () =>
      new Promise<Raw>((done, fail) => {
        const env = e2e.env();
        const rawEnv: Array<[string, Buffer]> = [];
        for (const [name, value] of Object.entries(options.env ?? {})) {
          if (typeof value === 'string') env[name] = value;
          else rawEnv.push([name, value]);
        }
        const raw = rawEnv.length > 0 || args.some((arg) => typeof arg !== 'string');
        const [command, argv] = raw
          ? [
              '/bin/sh',
              [
                '-c',
                [
                  ...rawEnv.map(([name, value]) => `export ${name}=${shellWord(value)};`),
                  `exec ${quote(process.execPath)} ${quote(KASH_BIN)} ${args.map(shellWord).join(' ')}`,
                ].join(' '),
              ],
            ]
          : [process.execPath, [KASH_BIN, ...(args as string[])]];
        const child = spawn(command, argv, { env, stdio: ['pipe', 'pipe', 'pipe'] });
        const shown = args.map((arg) => (typeof arg === 'string' ? arg : arg.toString()));
        withHygiene(shown, collect(child)).then(done, fail);
        child.stdin.on('error', () => {
          // kash may stop reading (a 1 MB password is refused after 4 KiB): its right.
        });
        child.stdin.end(options.input ?? '');
      }),
  );
}

// ---------------------------------------------------------------------------------------
// What every refusal must look like

const SECRETS = [demo.password, demo.apiKey, shop2.password, shop2.apiKey];
/** C0 controls but the line break, DEL, C1 controls (NEL among them), and the Unicode line and paragraph separators. */
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/u;
/** A clear error line repeats at most a bounded excerpt of what it was given. */
const MAX_ERROR_LINE = 500;

interface Outcome {
  codes: number[];
  /** Must be found on stderr (the error or its hint): what to fix. */
  says?: RegExp;
  /** Whether the value may reach the service; false: refused before any request. */
  mayRequest?: boolean;
}

/** The problems with one run, as readable lines; empty when it behaved. */
function problemsOf(label: string, run: Raw, outcome: Outcome, requests: number): string[] {
  const problems: string[] = [];
  const say = (what: string) =>
    problems.push(`${label}: ${what}\n    stderr: ${JSON.stringify(run.stderr.slice(0, 300))}`);
  if (run.code === null || !outcome.codes.includes(run.code))
    say(`exit ${run.code ?? run.signal}, expected ${outcome.codes.join(' or ')}`);
  if (run.code === 1) say('exit 1: "unexpected internal error"');
  if (run.code !== 0) {
    if (run.stdout !== '') say(`stdout is not empty on failure: ${JSON.stringify(run.stdout.slice(0, 100))}`);
    const lines = run.stderr.replace(/\n$/, '').split('\n');
    if (!/^error: \S/.test(lines[0] ?? '')) say('stderr does not start with an "error: " line');
    if (lines.length > 2) say(`stderr has ${lines.length} lines; one error line and at most one hint expected`);
    if ((lines[0] ?? '').length > MAX_ERROR_LINE)
      say(`the error line is ${lines[0]!.length} characters long (it repeats the input whole)`);
    if (outcome.says && !outcome.says.test(run.stderr)) say(`stderr does not match ${outcome.says}`);
  }
  if (/^\s+at\s|node:internal|\.c?[jt]s:\d+:\d+/m.test(run.stderr)) say('a stack trace');
  const controls = [...new Set(run.stderr.match(new RegExp(CONTROL.source, 'gu')) ?? [])];
  if (controls.length > 0)
    say(
      `stderr holds raw control characters: ${controls.map((c) => `U+${c.codePointAt(0)!.toString(16).padStart(4, '0')}`).join(', ')}`,
    );
  for (const secret of SECRETS) if ((run.stdout + run.stderr).includes(secret)) say('a secret is printed');
  if (!outcome.mayRequest && requests > 0)
    say(`${requests} request(s) reached the service; the value should have been refused first`);
  return problems;
}

// ---------------------------------------------------------------------------------------
// Fixtures

/** A config folder with a good login (demo under "default"), copied where a test needs one. */
let template: string;

beforeAll(() => {
  template = freshDir();
  writeStore(template, { default: { credentials: passwordCredentials(demo, e2e.emulator.url) } });
});

function loggedIn(): string {
  const dir = freshDir();
  copyConfigDir(template, dir);
  return dir;
}

interface Attempt {
  args: Arg[];
  env?: Record<string, Arg>;
  input?: Arg;
  /** Start from a logged-in store rather than none. */
  loggedIn?: boolean;
}

/** One attempt against an emulator of its own, so that its requests are its own. */
async function attempt(
  a: Attempt,
): Promise<{ run: Raw; requests: number; emails: number; dir: string; emulator: Emulator }> {
  const emulator = await startEmulator();
  try {
    const dir = a.loggedIn ? loggedIn() : freshDir();
    const run = await kashRaw(['--config-dir', dir, ...a.args], {
      env: { KASH_BASE_URL: emulator.url, ...a.env },
      input: a.input,
    });
    return { run, requests: emulator.requests.length, emails: emulator.outbox.length, dir, emulator };
  } finally {
    await emulator.close();
  }
}

// ---------------------------------------------------------------------------------------
// Every input, every kind of bad value

/** NEL (C1) and U+2028, line breaks of their own, have a test of their own below. */
type Kind = 'empty' | 'huge' | 'not UTF-8' | 'ESC sequence' | 'line break';
const KINDS: Kind[] = ['empty', 'huge', 'not UTF-8', 'ESC sequence', 'line break'];

const NOT_UTF8 = Buffer.from([0x61, 0xff, 0xfe, 0x62]);
/** For flags and variables (see the top of the file for why not 1 MB). */
const ARG_VALUES: Record<Kind, Arg> = {
  empty: '',
  huge: 'x'.repeat(100_000),
  'not UTF-8': NOT_UTF8,
  'ESC sequence': 'a\u001b[2Jb',
  'line break': 'a\nb',
};
/** For standard input, one line: a line break there ends the value, so a NUL stands in for it. */
const STDIN_VALUES: Record<Kind, Arg> = {
  empty: '\n',
  huge: `${'x'.repeat(1_000_000)}\n`,
  'not UTF-8': Buffer.concat([NOT_UTF8, Buffer.from('\n')]),
  'ESC sequence': 'a\u001b[2Jb\n',
  'line break': 'a\u0000b\n',
};

const REFUSED = (says: RegExp): Outcome => ({ codes: [2], says });

/** A value for a failure message: anything but printable ASCII as a \\u escape. */
const shown = (value: string) =>
  `"${value.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`;

interface InputCase {
  name: string;
  stdin?: boolean;
  make: (value: Arg) => Attempt;
  /** The outcome for every kind, unless `except` says otherwise. */
  outcome: Outcome;
  except?: Partial<Record<Kind, Outcome & { check?: (result: Awaited<ReturnType<typeof attempt>>) => string[] }>>;
}

const pw = { KASH_PASSWORD: demo.password };
const envCreds = { KASH_APIKEY: 'env-api-key-0123456789', KASH_SHOPID: '77' };
/** A login or password the service may see, after Node turned the bad bytes into U+FFFD: refused up front or by the service. */
const MAY_REACH_SERVICE: Outcome = { codes: [2, 3], mayRequest: true };

const INPUTS: InputCase[] = [
  {
    name: '--login',
    make: (v) => ({ args: ['login', '--login', v], env: pw }),
    outcome: REFUSED(/login/i),
    except: { 'not UTF-8': MAY_REACH_SERVICE },
  },
  {
    name: 'KASH_LOGIN',
    make: (v) => ({ args: ['login'], env: { ...pw, KASH_LOGIN: v } }),
    outcome: REFUSED(/login/i),
    except: { 'not UTF-8': MAY_REACH_SERVICE },
  },
  {
    name: 'KASH_PASSWORD',
    make: (v) => ({ args: ['login', '--login', demo.login], env: { KASH_PASSWORD: v } }),
    outcome: REFUSED(/password/i),
    except: { 'not UTF-8': MAY_REACH_SERVICE },
  },
  {
    // Here kash has the very bytes: a password that is not UTF-8 cannot be sent as the
    // user typed it, so it must be refused, not silently turned into U+FFFD and tried.
    name: '--password-stdin',
    stdin: true,
    make: (v) => ({ args: ['login', '--login', demo.login, '--password-stdin'], input: v }),
    outcome: REFUSED(/password/i),
  },
  {
    name: '--email (otp request)',
    make: (v) => ({ args: ['otp', 'request', '--email', v] }),
    outcome: REFUSED(/email/i),
  },
  {
    name: 'KASH_EMAIL (otp request)',
    make: (v) => ({ args: ['otp', 'request'], env: { KASH_EMAIL: v } }),
    outcome: REFUSED(/email/i),
  },
  { name: '--otp', make: (v) => ({ args: ['otp', 'consume', '--email', ONE, '--otp', v] }), outcome: REFUSED(/code/i) },
  // An empty KASH_OTP counts as unset: the code is then read from standard input, empty here.
  {
    name: 'KASH_OTP',
    make: (v) => ({ args: ['otp', 'consume', '--email', ONE], env: { KASH_OTP: v } }),
    outcome: REFUSED(/code/i),
  },
  {
    name: 'the code on standard input',
    stdin: true,
    make: (v) => ({ args: ['otp', 'consume', '--email', ONE], input: v }),
    outcome: REFUSED(/code/i),
  },
  {
    name: '--account-id',
    make: (v) => ({ args: ['otp', 'request', '--email', TWO, '--account-id', v] }),
    outcome: REFUSED(/account/i),
    except: { 'not UTF-8': MAY_REACH_SERVICE },
  },
  {
    name: 'KASH_ACCOUNT_ID',
    make: (v) => ({ args: ['otp', 'request', '--email', TWO], env: { KASH_ACCOUNT_ID: v } }),
    outcome: REFUSED(/account/i),
    except: {
      'not UTF-8': MAY_REACH_SERVICE,
      // Empty is unset: with two shops and no one to ask, kash must say to pick one, having sent no code.
      empty: {
        codes: [2],
        says: /--account-id/,
        mayRequest: true,
        check: ({ emails }) => (emails === 0 ? [] : [`${emails} code email(s) sent`]),
      },
    },
  },
  {
    name: '--title',
    make: (v) => ({ args: ['shops', '--email', TWO, '--title', v] }),
    outcome: REFUSED(/title/i),
    except: { 'not UTF-8': MAY_REACH_SERVICE },
  },
  {
    name: '--prefix',
    make: (v) => ({ args: ['env', '--prefix', v], env: envCreds }),
    outcome: REFUSED(/prefix/i),
    except: {
      // Empty is a documented prefix: plain APIKEY and SHOPID.
      empty: {
        codes: [0],
        check: ({ run }) =>
          run.stdout === "export APIKEY='env-api-key-0123456789'\nexport SHOPID='77'\n"
            ? []
            : [`stdout ${JSON.stringify(run.stdout)}`],
      },
      // 100 000 letters make a valid, if silly, variable name.
      huge: { codes: [0, 2] },
    },
  },
  {
    name: '--format (env)',
    make: (v) => ({ args: ['env', '--format', v], env: envCreds }),
    outcome: REFUSED(/format/i),
  },
  {
    name: '--format (login --no-save)',
    make: (v) => ({ args: ['login', '--login', demo.login, '--no-save', '--format', v], env: pw }),
    outcome: REFUSED(/format/i),
  },
  {
    name: '--profile',
    make: (v) => ({ args: ['login', '--login', demo.login, '--profile', v], env: pw }),
    outcome: REFUSED(/profile/i),
  },
  {
    name: 'KASH_PROFILE',
    make: (v) => ({ args: ['login', '--login', demo.login], env: { ...pw, KASH_PROFILE: v } }),
    outcome: REFUSED(/profile/i),
    except: {
      empty: {
        codes: [0],
        mayRequest: true,
        check: ({ dir }) => (savedProfiles(dir).join() === 'default' ? [] : [`saved as ${savedProfiles(dir).join()}`]),
      },
    },
  },
  {
    name: '--base-url',
    make: (v) => ({ args: ['login', '--login', demo.login, '--base-url', v], env: pw }),
    outcome: REFUSED(/base URL|https/i),
  },
  {
    name: 'KASH_BASE_URL',
    make: (v) => ({ args: ['login', '--login', demo.login], env: { ...pw, KASH_BASE_URL: v } }),
    outcome: REFUSED(/base URL|https/i),
    // Empty is unset, so the real service: tried with a command that sends nothing (below).
  },
  {
    name: '--timeout',
    make: (v) => ({ args: ['login', '--login', demo.login, '--timeout', v], env: pw }),
    outcome: REFUSED(/timeout/i),
  },
  {
    name: 'KASH_TIMEOUT',
    make: (v) => ({ args: ['login', '--login', demo.login], env: { ...pw, KASH_TIMEOUT: v } }),
    outcome: REFUSED(/timeout/i),
    except: { empty: { codes: [0], mayRequest: true } },
  },
];

function savedProfiles(dir: string): string[] {
  try {
    return Object.keys(
      (JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8')) as { profiles: object }).profiles,
    ).sort();
  } catch {
    return [];
  }
}

describe.concurrent('bad values in every input', () => {
  it.each(INPUTS)('$name: empty, huge, not UTF-8, ESC, line break', async (input) => {
    const kinds = input.name === 'KASH_BASE_URL' ? KINDS.filter((kind) => kind !== 'empty') : KINDS;
    const problems = (
      await Promise.all(
        kinds.map(async (kind) => {
          const value = (input.stdin ? STDIN_VALUES : ARG_VALUES)[kind];
          const outcome = input.except?.[kind] ?? input.outcome;
          const result = await attempt(input.make(value));
          const label = `${input.name} = ${kind}`;
          return [
            ...problemsOf(label, result.run, outcome, result.requests),
            ...(input.except?.[kind]?.check?.(result) ?? []).map((p) => `${label}: ${p}`),
          ];
        }),
      )
    ).flat();
    expect(problems, problems.join('\n')).toEqual([]);
  });

  // JSON.stringify, which error messages use to quote a value, escapes C0 controls but
  // leaves C1 controls and U+2028/U+2029 raw: NEL (U+0085) is a line break to Unicode and
  // to some terminals, so an error quoting one is no longer one line.
  it('NEL (C1) and U+2028 in any input: refused, and never written raw to stderr', async () => {
    const value = 'a\u0085b\u2028c';
    const problems = (
      await Promise.all(
        INPUTS.map(async (input) => {
          const result = await attempt(input.make(input.stdin ? `${value}\n` : value));
          return problemsOf(`${input.name} = ${shown(value)}`, result.run, input.outcome, result.requests);
        }),
      )
    ).flat();
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('an empty KASH_BASE_URL counts as unset, not as an invalid URL', async () => {
    const { run } = await attempt({ args: ['whoami', '--json'], env: { KASH_BASE_URL: '' }, loggedIn: true });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ profile: 'default', shopId: demo.shopId });
  });
});

describe.concurrent('base URLs that hold more than a URL', () => {
  it('a control character inside the host is refused up front', async () => {
    const results = await Promise.all(
      ['\u0001', '\u001b[2J'].map(async (bad) => {
        const e = await startEmulator();
        try {
          const url = e.url.replace('127.0.0.1', `127.0.0.1${bad}`);
          const run = await kashRaw(['--config-dir', freshDir(), 'login', '--login', demo.login, '--base-url', url], {
            env: pw,
          });
          return problemsOf(`--base-url ${JSON.stringify(url)}`, run, REFUSED(/base URL|https/i), e.requests.length);
        } finally {
          await e.close();
        }
      }),
    );
    expect(results.flat(), results.flat().join('\n')).toEqual([]);
  });

  it('a trailing CR (a CRLF .env file) is either refused or dropped: a saved base URL never holds it', async () => {
    const e = await startEmulator();
    try {
      const dir = freshDir();
      const run = await kashRaw(['--config-dir', dir, 'login', '--login', demo.login], {
        env: { ...pw, KASH_BASE_URL: `${e.url}\r` },
      });
      expect(problemsOf('KASH_BASE_URL=<url>\\r', run, { codes: [0, 2], mayRequest: true }, e.requests.length)).toEqual(
        [],
      );
      if (run.code === 0) {
        const store = JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8')) as {
          profiles: { default: { credentials: { baseUrl: string } } };
        };
        expect(store.profiles.default.credentials.baseUrl).toBe(e.url);
      } else {
        expect(e.requests).toEqual([]);
      }
    } finally {
      await e.close();
    }
  });

  it('a 100 000-character path on a good origin ends in a bounded error line', async () => {
    const e = await startEmulator();
    try {
      const run = await kashRaw(
        ['--config-dir', freshDir(), 'login', '--login', demo.login, '--base-url', `${e.url}/${'p'.repeat(100_000)}`],
        { env: pw },
      );
      const problems = problemsOf(
        '--base-url <origin>/<100 000 characters>',
        run,
        { codes: [2, 4], mayRequest: true },
        e.requests.length,
      );
      expect(problems, problems.join('\n')).toEqual([]);
    } finally {
      await e.close();
    }
  });
});

describe.concurrent('timeouts that are not a number of seconds', () => {
  // 0, -1 and abc on `login` are in globals.test.ts; here they go to `otp request`, where a
  // request let through would send a code email.
  const BAD = ['0', '-1', 'abc', '1e9', 'NaN', 'Infinity', '0x10', '3601', '-0', '5s', ' '];

  it.each([
    {
      via: '--timeout',
      make: (v: string): Attempt => ({ args: ['otp', 'request', '--email', ONE, `--timeout=${v}`] }),
    },
    {
      via: 'KASH_TIMEOUT',
      make: (v: string): Attempt => ({ args: ['otp', 'request', '--email', ONE], env: { KASH_TIMEOUT: v } }),
    },
  ])('$via: exit 2 naming the timeout, no request, no email', async ({ via, make }) => {
    const results = await Promise.all(
      BAD.map(async (value) => {
        const result = await attempt(make(value));
        const label = `${via}=${JSON.stringify(value)}`;
        // A blank KASH_TIMEOUT may count as unset, as an empty one does; nothing is lost then.
        const outcome =
          via === 'KASH_TIMEOUT' && value.trim() === '' ? { codes: [0, 2], mayRequest: true } : REFUSED(/timeout/i);
        return [
          ...problemsOf(label, result.run, outcome, result.requests),
          ...(outcome.mayRequest || result.emails === 0 ? [] : [`${label}: a code email was sent`]),
        ];
      }),
    );
    expect(results.flat(), results.flat().join('\n')).toEqual([]);
  });

  it('accepts 0.5, 3600 and a padded " 5 " (exit 0)', async () => {
    const runs = await Promise.all([
      attempt({ args: ['login', '--login', demo.login, '--timeout', '0.5'], env: pw }),
      attempt({ args: ['login', '--login', demo.login], env: { ...pw, KASH_TIMEOUT: '3600' } }),
      attempt({ args: ['login', '--login', demo.login], env: { ...pw, KASH_TIMEOUT: ' 5 ' } }),
    ]);
    for (const { run } of runs) expect(run.code, run.stderr).toBe(0);
  });
});

describe.concurrent('profile names', () => {
  // Invalid: path separators and traversal not covered by globals.test.ts (../x, a/b, ..\x),
  // spaces around a good name, shell syntax. NUL cannot be passed at all (see the top).
  const INVALID = ['/', '..\\', '../', './x', '~', ' default', '$(id)'];

  it.each([
    {
      via: '--profile',
      make: (v: string): Attempt => ({ args: ['login', '--login', demo.login, '--profile', v], env: pw }),
    },
    {
      via: 'KASH_PROFILE',
      make: (v: string): Attempt => ({ args: ['login', '--login', demo.login], env: { ...pw, KASH_PROFILE: v } }),
    },
  ])('$via: path-like and other invalid names are exit 2, nothing sent, nothing written', async ({ via, make }) => {
    const results = await Promise.all(
      INVALID.map(async (name) => {
        const result = await attempt(make(name));
        const label = `${via} ${JSON.stringify(name.slice(0, 20))}`;
        return [
          ...problemsOf(label, result.run, REFUSED(/profile/i), result.requests),
          ...(listDir(result.dir).length === 0 ? [] : [`${label}: wrote ${listDir(result.dir).join()}`]),
        ];
      }),
    );
    expect(results.flat(), results.flat().join('\n')).toEqual([]);
  });

  it('".", ".." and "..." are valid names (CLI.md): keys in the store, never paths', async () => {
    const root = e2e.tempDir();
    const dir = join(root, 'kash');
    const e = await startEmulator();
    try {
      const names = ['.', '..', '...'];
      const runs = await Promise.all(
        names.map((name) =>
          kashRaw(['--config-dir', dir, 'login', '--login', demo.login, '--profile', name], {
            env: { ...pw, KASH_BASE_URL: e.url },
          }),
        ),
      );
      for (const [i, run] of runs.entries()) expect(run.code, `${names[i]}: ${run.stderr}`).toBe(0);
      expect(savedProfiles(dir)).toEqual(['.', '..', '...']);
      // Nothing beside the config folder, nothing in it but the store.
      expect(listDir(root)).toEqual(['kash']);
      expect(listDir(dir)).toEqual(['credentials.json']);
      const who = await kashRaw(['--config-dir', dir, 'whoami', '--json', '--profile', '..']);
      expect(who.code, who.stderr).toBe(0);
      expect(JSON.parse(who.stdout)).toMatchObject({ profile: '..', shopId: demo.shopId });
    } finally {
      await e.close();
    }
  });

  it('"__proto__" and "constructor" are ordinary names: saved, listed, and not found where absent', async () => {
    const dir = loggedIn();
    const e = await startEmulator();
    try {
      const [proto, constructorWho, constructorLogout] = await Promise.all([
        kashRaw(['--config-dir', dir, 'login', '--login', demo.login, '--profile', '__proto__'], {
          env: { ...pw, KASH_BASE_URL: e.url },
        }),
        kashRaw(['--config-dir', dir, 'whoami', '--profile', 'constructor']),
        kashRaw(['--config-dir', dir, 'logout', '--json', '--profile', 'toString']),
      ]);
      expect(proto.code, proto.stderr).toBe(0);
      expect(
        problemsOf('whoami --profile constructor', constructorWho, { codes: [5], says: /not logged in/ }, 0),
      ).toEqual([]);
      expect(constructorLogout.code, constructorLogout.stderr).toBe(0);
      expect(JSON.parse(constructorLogout.stdout)).toEqual({ removed: [] });
      const all = await kashRaw(['--config-dir', dir, 'whoami', '--all', '--json']);
      expect(all.code, all.stderr).toBe(0);
      expect((JSON.parse(all.stdout) as Array<{ profile: string }>).map((v) => v.profile).sort()).toEqual([
        '__proto__',
        'default',
      ]);
    } finally {
      await e.close();
    }
  });
});

describe.concurrent('config folders that cannot be folders', () => {
  /** A regular file with known bytes, where kash is told its folder is (or is inside). */
  function regularFile(): string {
    const path = join(e2e.tempDir(), 'not-a-folder');
    writeFileSync(path, 'precious bytes\n', { mode: 0o600 });
    return path;
  }

  const COMMANDS: Array<{ name: string; args: string[]; env?: Record<string, string>; noRequest: boolean }> = [
    { name: 'whoami', args: ['whoami'], noRequest: true },
    { name: 'env', args: ['env'], noRequest: true },
    { name: 'logout', args: ['logout'], noRequest: true },
    { name: 'logout --all', args: ['logout', '--all'], noRequest: true },
    // A code email cannot be taken back: a store that cannot remember the request stops it first.
    { name: 'otp request', args: ['otp', 'request', '--email', ONE], noRequest: true },
    { name: 'otp consume', args: ['otp', 'consume', '--otp', '123456'], noRequest: true },
    // CLI.md asks only that a failed login leave the store as it was; the login itself may have been tried.
    { name: 'login', args: ['login', '--login', demo.login], env: pw, noRequest: false },
  ];

  it.each([
    { where: 'is a regular file', dirFor: (file: string) => file },
    { where: 'is inside a regular file', dirFor: (file: string) => join(file, 'kash') },
  ])('--config-dir that $where: exit 6 naming the path, the file untouched', async ({ dirFor }) => {
    const results = await Promise.all(
      COMMANDS.map(async ({ name, args, env, noRequest }) => {
        const file = regularFile();
        const dir = dirFor(file);
        const e = await startEmulator();
        try {
          const run = await kashRaw(['--config-dir', dir, ...args], { env: { KASH_BASE_URL: e.url, ...env } });
          const problems = problemsOf(name, run, { codes: [6], mayRequest: !noRequest }, e.requests.length);
          if (!run.stderr.includes(file)) problems.push(`${name}: the error does not name ${file}`);
          if (readFileSync(file, 'utf8') !== 'precious bytes\n') problems.push(`${name}: the file was changed`);
          if (e.outbox.length > 0) problems.push(`${name}: a code email was sent`);
          return problems;
        } finally {
          await e.close();
        }
      }),
    );
    expect(results.flat(), results.flat().join('\n')).toEqual([]);
  });

  it('a --no-save login never touches the store, so a file there does not matter', async () => {
    const file = regularFile();
    const e = await startEmulator();
    try {
      const run = await kashRaw(
        ['--config-dir', file, 'login', '--login', demo.login, '--no-save', '--format', 'json'],
        { env: { ...pw, KASH_BASE_URL: e.url } },
      );
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual({ KASH_APIKEY: demo.apiKey, KASH_SHOPID: demo.shopId });
      expect(readFileSync(file, 'utf8')).toBe('precious bytes\n');
    } finally {
      await e.close();
    }
  });

  it('an empty --config-dir is a usage error, not "not logged in" nor a store in the working folder', async () => {
    const results = await Promise.all(
      [
        { name: 'whoami', args: ['whoami'] },
        { name: 'logout', args: ['logout'] },
        { name: 'login', args: ['login', '--login', demo.login] },
      ].map(async ({ name, args }) => {
        const e = await startEmulator();
        try {
          const run = await kashRaw(['--config-dir', '', ...args], { env: { ...pw, KASH_BASE_URL: e.url } });
          return problemsOf(`--config-dir '' ${name}`, run, REFUSED(/config/i), e.requests.length);
        } finally {
          await e.close();
        }
      }),
    );
    expect(results.flat(), results.flat().join('\n')).toEqual([]);
  });

  it('an empty KASH_CONFIG_DIR counts as unset: the default folder under XDG_CONFIG_HOME', async () => {
    const xdg = e2e.tempDir('xdg-');
    const e = await startEmulator();
    try {
      const run = await kashRaw(['login', '--login', demo.login], {
        env: { ...pw, KASH_BASE_URL: e.url, KASH_CONFIG_DIR: '', XDG_CONFIG_HOME: xdg },
      });
      expect(run.code, run.stderr).toBe(0);
      expect(Object.keys(storeSnapshot(xdg))).toEqual([join('kash', 'credentials.json')]);
    } finally {
      await e.close();
    }
  });
});
