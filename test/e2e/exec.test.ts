// `kash exec -- cmd …`, end to end (shared/CLI.md, the `kash exec` paragraph, "Streams",
// "Exit codes"): the built CLI as a real process runs a real command, and the command
// (test/support/exec-child.mjs) reports from the inside what it was given and what
// signals reached it.
//
// Every run gets a fully known environment: each variable of the test process is
// removed (a value of `undefined` is dropped by spawn) and a few chosen ones are set (with
// the harness's HOME, XDG folders and KASH_STORAGE, see test/support/environment.ts), so
// the command's environment can be compared with kash's own exactly, key for key.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  collect,
  isolation,
  KASH_BIN,
  type KashRun,
  registerSecret,
  runKash,
  useE2e,
  withHygiene,
} from '../support/e2e.js';
import { accounts } from '../support/emulator.js';
import { shellQuote, spawnOnTerminal } from '../support/pty.js';
import { requires } from '../support/requires.js';
import { hygieneProblem, SecretLeakError } from '../support/run-kash.js';

const CHILD = resolve(import.meta.dirname, '../support/exec-child.mjs');
const TRACER = resolve(import.meta.dirname, '../support/trace.cjs');
const NODE = process.execPath;
const { demo } = accounts;

// A second saved profile and credentials from the environment, with keys of their own.
const BAKERY = { apiKey: 'bakery-api-key-7f3a9c2e5b1d', shopId: '7001' };
const FROM_ENV = { apiKey: 'env-api-key-0a1b2c3d4e5f6789', shopId: '9009' };
registerSecret(BAKERY.apiKey, 'exec.bakery.apiKey', { stdoutAllowed: true });
registerSecret(FROM_ENV.apiKey, 'exec.fromEnv.apiKey', { stdoutAllowed: true });

// No emulator: exec never calls the service.
const e2e = useE2e({ emulator: false });
let root: string;
/** Holds `default` (the demo account) and `bakery`. */
let configDir: string;
let emptyDir: string;
let files = 0;
/** A path in the test's folder, not yet created. */
const scratch = (name: string) => join(root, `${name}-${files++}`);

function savedRecord(apiKey: string, shopId: string) {
  return {
    credentials: {
      apiKey,
      shopId,
      login: demo.login,
      email: null,
      method: 'password',
      baseUrl: 'http://127.0.0.1:9/',
      obtainedAt: '2026-11-28T12:00:00.000Z',
      shopTitle: null,
    },
  };
}

beforeAll(() => {
  root = e2e.tempDir();
  configDir = join(root, 'config');
  emptyDir = join(root, 'empty');
  mkdirSync(configDir, { mode: 0o700 });
  mkdirSync(emptyDir, { mode: 0o700 });
  const store = {
    version: 1,
    profiles: { default: savedRecord(demo.apiKey, demo.shopId), bakery: savedRecord(BAKERY.apiKey, BAKERY.shopId) },
  };
  writeFileSync(join(configDir, 'credentials.json'), JSON.stringify(store), { mode: 0o600 });
});

type Env = Record<string, string | undefined>;

/**
 * kash's whole environment: nothing of the test process, only these, plus `extra` (where
 * `undefined` removes a variable). A base URL that nothing listens on: exec must not call it.
 */
function knownEnv(extra: Env = {}): Env {
  const env: Env = Object.fromEntries(Object.keys(process.env).map((name) => [name, undefined]));
  return {
    ...env,
    ...isolation(),
    PATH: process.env.PATH,
    LANG: 'C',
    KASH_CONFIG_DIR: configDir,
    KASH_BASE_URL: 'http://127.0.0.1:9',
    EXEC_TEST_TRICKY: `two words\n'single' "double" $HOME \`x\` =;`,
    ...extra,
  };
}

/** The variables that a process started with `env` really has. */
function defined(env: Env): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

function kash(args: string[], extra: Env = {}, input?: string): Promise<KashRun> {
  return runKash(args, { env: knownEnv(extra), input });
}

interface ChildView {
  env: Record<string, string>;
  argv: string[];
}

/** Runs exec-child.mjs's `env` mode under kash; kash itself must have said nothing. */
async function childView(before: string[], extra: Env = {}, after: string[] = []): Promise<ChildView> {
  const run = await kash([...before, '--', NODE, CHILD, 'env', ...after], extra);
  expect(run.stderr, 'kash and the command print nothing on stderr').toBe('');
  expect(run.code, run.stderr).toBe(0);
  // All of stdout is the command's one JSON document: kash added nothing to it.
  return JSON.parse(run.stdout) as ChildView;
}

const keysOf = (env: Record<string, string>) => Object.keys(env).sort();

describe.concurrent('the command’s environment', { timeout: 30_000 }, () => {
  it('is kash’s own plus exactly KASH_APIKEY and KASH_SHOPID with the saved values', async () => {
    const { env, argv } = await childView(['exec']);
    expect(env).toEqual({ ...defined(knownEnv()), KASH_APIKEY: demo.apiKey, KASH_SHOPID: demo.shopId });
    expect(keysOf(env)).toEqual(keysOf({ ...defined(knownEnv()), KASH_APIKEY: '', KASH_SHOPID: '' }));
    expect(argv).toEqual([]);
  });

  it('with --prefix MY_, the names are MY_APIKEY and MY_SHOPID, and no KASH_APIKEY appears', async () => {
    const { env } = await childView(['exec', '--prefix', 'MY_']);
    expect(env).toEqual({ ...defined(knownEnv()), MY_APIKEY: demo.apiKey, MY_SHOPID: demo.shopId });
    expect(env).not.toHaveProperty('KASH_APIKEY');
    expect(env).not.toHaveProperty('KASH_SHOPID');
  });

  it('--profile and KASH_PROFILE pick the saved profile whose values the command gets', async () => {
    const byFlag = await childView(['--profile', 'bakery', 'exec']);
    expect(byFlag.env).toEqual({ ...defined(knownEnv()), KASH_APIKEY: BAKERY.apiKey, KASH_SHOPID: BAKERY.shopId });
    const byVariable = await childView(['exec'], { KASH_PROFILE: 'bakery' });
    expect(byVariable.env).toEqual({
      ...defined(knownEnv({ KASH_PROFILE: 'bakery' })),
      KASH_APIKEY: BAKERY.apiKey,
      KASH_SHOPID: BAKERY.shopId,
    });
  });

  it('with KASH_APIKEY and KASH_SHOPID set, those are the values (over the store), under any prefix', async () => {
    const fromEnv = { KASH_APIKEY: FROM_ENV.apiKey, KASH_SHOPID: FROM_ENV.shopId };
    const plain = await childView(['exec'], fromEnv);
    expect(plain.env).toEqual(defined(knownEnv(fromEnv)));
    const prefixed = await childView(['exec', '--prefix', 'MY_'], fromEnv);
    expect(prefixed.env).toEqual({
      ...defined(knownEnv(fromEnv)),
      MY_APIKEY: FROM_ENV.apiKey,
      MY_SHOPID: FROM_ENV.shopId,
    });
  });

  it('an explicit --profile beats KASH_APIKEY and KASH_SHOPID: the command gets that profile’s key and shop', async () => {
    // As after `eval "$(kash env)"`: the variables hold one shop, --profile names another.
    const fromEnv = { KASH_APIKEY: FROM_ENV.apiKey, KASH_SHOPID: FROM_ENV.shopId };
    for (const before of [
      ['exec', '--profile', 'bakery'],
      ['--profile', 'bakery', 'exec'],
    ]) {
      const { env } = await childView(before, fromEnv);
      expect(env, before.join(' ')).toEqual({
        ...defined(knownEnv(fromEnv)),
        KASH_APIKEY: BAKERY.apiKey,
        KASH_SHOPID: BAKERY.shopId,
      });
    }
  });

  it('works with no store at all when the environment holds the credentials', async () => {
    const fromEnv = {
      KASH_CONFIG_DIR: join(root, 'never-created'),
      KASH_APIKEY: FROM_ENV.apiKey,
      KASH_SHOPID: FROM_ENV.shopId,
    };
    const { env } = await childView(['exec', '--prefix', 'POS_'], fromEnv);
    expect(env).toEqual({ ...defined(knownEnv(fromEnv)), POS_APIKEY: FROM_ENV.apiKey, POS_SHOPID: FROM_ENV.shopId });
    expect(existsSync(join(root, 'never-created'))).toBe(false);
  });

  it('everything after -- reaches the command as is, options of kash’s included', async () => {
    const args = ['--prefix', 'X_', '--json', '--profile', 'nobody', '--', '--help', '', 'two words', 'it\'s "$HOME"'];
    const { env, argv } = await childView(['exec'], {}, args);
    expect(argv).toEqual(args);
    expect(env.KASH_APIKEY).toBe(demo.apiKey);
    expect(env).not.toHaveProperty('X_APIKEY');
  });

  it('the credentials appear nowhere but there: kash prints nothing of its own on stdout or stderr, even with --verbose', async () => {
    const [plain, verbose] = await Promise.all([
      kash(['exec', '--', NODE, '-e', '']),
      kash(['--verbose', 'exec', '--', NODE, '-e', '']),
    ]);
    expect(plain).toEqual({ code: 0, signal: null, stdout: '', stderr: '' });
    expect(verbose.code, verbose.stderr).toBe(0);
    expect(verbose.stdout).toBe('');
    expect(verbose.stderr).not.toContain(demo.apiKey);
  });
});

describe.concurrent('exit status', { timeout: 30_000 }, () => {
  it.each([0, 3, 42, 255])('passes the command’s status %i through, saying nothing', async (status) => {
    const run = await kash(['exec', '--', 'sh', '-c', `exit ${status}`]);
    expect(run).toEqual({ code: status, signal: null, stdout: '', stderr: '' });
  });

  it.each([
    ['TERM', 128 + 15],
    ['KILL', 128 + 9],
    ['HUP', 128 + 1],
  ])('a command killed by SIG%s gives %i, as a shell shows it', async (signal, status) => {
    const run = await kash(['exec', '--', 'sh', '-c', `kill -${signal} $$`]);
    // Where kash became the command, the command's own death is what the shell sees (128 + n);
    // otherwise kash exits with that status, and is not killed.
    expect(run).toEqual(
      REPLACED
        ? { code: null, signal: `SIG${signal}`, stdout: '', stderr: '' }
        : { code: status, signal: null, stdout: '', stderr: '' },
    );
  });
});

/**
 * Runs kash with raw bytes in and out (runKash decodes UTF-8, which would hide a bad byte);
 * checked for secret hygiene as runKash's runs are.
 */
function rawKash(args: string[], input: Buffer): Promise<{ code: number | null; stdout: Buffer; stderr: Buffer }> {
  return new Promise((done, fail) => {
    const child = spawn(NODE, [KASH_BIN, ...args], { env: knownEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', fail);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const run = { code, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr) };
      const problem = hygieneProblem(args, {
        ...run,
        signal,
        stdout: run.stdout.toString(),
        stderr: run.stderr.toString(),
      });
      if (problem === undefined) done(run);
      else fail(new SecretLeakError(problem));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

describe.concurrent('standard streams', { timeout: 30_000 }, () => {
  it('stdin reaches the command', async () => {
    const run = await kash(['exec', '--', 'cat'], {}, 'hello\n');
    expect(run).toEqual({ code: 0, signal: null, stdout: 'hello\n', stderr: '' });
  });

  it('stdin, stdout and stderr pass through byte for byte (NUL, invalid UTF-8, CR LF, no final newline)', async () => {
    const few = Buffer.from([
      0x00, 0x41, 0xff, 0xfe, 0x00, 0x80, 0x0d, 0x0a, 0xc3, 0x28, 0x1b, 0x5b, 0x33, 0x31, 0x6d, 0x00,
    ]);
    const every = Buffer.alloc(256 * 1024, 0).map((_, i) => (i * 7 + (i >> 8)) & 0xff);
    const input = Buffer.concat([few, every]);
    const run = await rawKash(['exec', '--', NODE, CHILD, 'echo'], input);
    expect(run.code, run.stderr.toString()).toBe(0);
    expect(run.stdout.equals(input), 'stdout is the command’s bytes').toBe(true);
    expect(run.stderr.equals(Buffer.from(input).reverse()), 'stderr is the command’s bytes').toBe(true);
  });
});

/** Polls `file` until it holds `text`; gives up when `ended()` says kash has ended, or after 10 s. */
async function waitForFile(file: string, text: string, ended: () => string | undefined): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (existsSync(file) && readFileSync(file, 'utf8').includes(text)) return;
    const why = ended();
    if (why !== undefined) throw new Error(`kash ended (${why}) before ${JSON.stringify(text)} appeared in ${file}`);
    await sleep(20);
  }
  throw new Error(`${JSON.stringify(text)} never appeared in ${file}`);
}

const linesOf = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean);

/** From Node 26, where process.execve throws on failure, kash replaced itself with the command: one process. */
const REPLACED =
  typeof (process as { execve?: unknown }).execve === 'function' && Number.parseInt(process.versions.node, 10) >= 26;
/** kash's pid, as the command recorded it: its parent, or itself where kash became it. */
const kashPidOf = (record: string) => {
  const [own, parent] = readFileSync(`${record}.pid`, 'utf8').split(' ').map(Number);
  return (REPLACED ? own : parent) ?? 0;
};

interface Started {
  child: ChildProcessWithoutNullStreams;
  result: Promise<KashRun>;
  ended: () => string | undefined;
}

/**
 * Starts kash in a session of its own (`detached`), so that it has no controlling
 * terminal wherever the tests run, and stdin is a pipe: a signal can only come from
 * `kill`. The run is checked for secret hygiene as runKash checks it.
 */
function startWithoutTerminal(args: string[]): Started {
  const child = spawn(NODE, [KASH_BIN, ...args], { env: knownEnv(), stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  const result = withHygiene(args, collect(child));
  // Open, not closed: a command that reads stdin waits, as it would in a pipeline.
  child.stdin.on('error', () => undefined);
  const ended = () =>
    child.exitCode !== null || child.signalCode !== null ? String(child.exitCode ?? child.signalCode) : undefined;
  return { child, result, ended };
}

describe.concurrent('signals sent to kash, with no terminal', { timeout: 30_000 }, () => {
  it.each(['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const)(
    '%s reaches the command, exactly once, and kash exits with the command’s status',
    async (signal) => {
      const record = scratch('signals');
      const started = startWithoutTerminal(['exec', '--', NODE, CHILD, 'trap', record]);
      await waitForFile(record, 'ready', started.ended);
      expect(started.child.kill(signal)).toBe(true);
      const run = await started.result;
      expect(linesOf(record), run.stderr).toEqual(['ready', signal]);
      expect(run).toEqual({ code: 7, signal: null, stdout: 'ready\n', stderr: '' });
    },
  );

  // `kill -- -PGID`, as a job runner stopping a job does: the command has it already.
  it.each(['SIGTERM', 'SIGINT'] as const)(
    '%s to kash’s whole process group reaches the command exactly once',
    async (signal) => {
      const record = scratch('signals');
      const started = startWithoutTerminal(['exec', '--', NODE, CHILD, 'trap', record]);
      await waitForFile(record, 'ready', started.ended);
      // kash leads its own group (detached): its pid is the group's id.
      process.kill(-(started.child.pid ?? 0), signal);
      const run = await started.result;
      expect(linesOf(record), run.stderr).toEqual(['ready', signal]);
      expect(run.code).toBe(7);
    },
  );

  // SIGUSR1 would open Node's inspector (a debugger port into a process holding the key);
  // SIGUSR2 would kill kash and orphan the command.
  it('SIGUSR1 opens no debugger port, and neither it nor SIGUSR2 ends kash before the command', async () => {
    const record = scratch('signals');
    const started = startWithoutTerminal(['exec', '--', NODE, CHILD, 'trap', record]);
    await waitForFile(record, 'ready', started.ended);
    const kashPid = kashPidOf(record);
    process.kill(kashPid, 'SIGUSR1');
    await waitForFile(record, 'SIGUSR1', started.ended);
    process.kill(kashPid, 'SIGUSR2');
    await waitForFile(record, 'SIGUSR2', started.ended);
    expect(started.ended(), 'kash still waits for its command').toBeUndefined();
    const inspector = await new Promise<string>((done) => {
      const socket = connect(9229, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        done('listening');
      });
      socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? 'error'));
    });
    expect(inspector).toBe('ECONNREFUSED');
    const run = await started.result;
    expect(linesOf(record)).toEqual(['ready', 'SIGUSR1', 'SIGUSR2']);
    expect(run.code).toBe(7);
  });

  // The command may run before spawn() returns in kash: kash must already hold its signals then.
  it.each(['SIGHUP', 'SIGTERM', 'SIGQUIT'] as const)(
    '%s sent to kash by the command as the first thing it does reaches the command, and kash exits with its status',
    async (signal) => {
      const name = signal.slice(3);
      // Where kash became the command, $PPID is kash's parent: the command signals itself instead.
      const target = REPLACED ? '$$' : '$PPID';
      const script = `trap 'echo got ${name}; exit 7' ${name}; kill -${name} ${target}; i=0; while [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done; exit 9`;
      const run = await kash(['exec', '--', 'sh', '-c', script]);
      expect(run.stdout).toBe(`got ${name}\n`);
      expect(run.code, run.stderr).toBe(7);
    },
  );

  it('a command without a handler dies of the forwarded SIGTERM, and kash exits 143', async () => {
    const ready = scratch('ready');
    const started = startWithoutTerminal(['exec', '--', NODE, CHILD, 'wait', ready]);
    await waitForFile(ready, 'ready', started.ended);
    started.child.kill('SIGTERM');
    const run = await started.result;
    expect(run).toEqual(
      REPLACED
        ? { code: null, signal: 'SIGTERM', stdout: '', stderr: '' }
        : { code: 128 + 15, signal: null, stdout: '', stderr: '' },
    );
  });
});

/**
 * Runs kash on a fresh pseudo-terminal (util-linux `script`, through test/support/pty.ts),
 * in the terminal's foreground process group, as at a prompt; with `stdinFrom`, its stdin
 * is redirected from that file, as in `kash exec -- ./import.sh < orders.csv`.
 */
function startOnTerminal(args: string[], stdinFrom?: string): Started & { type(text: string): void } {
  const words = [NODE, KASH_BIN, ...args].map(shellQuote).join(' ');
  // Not `exec`: kash stays a child of the shell, not of `script`, which would answer kash
  // being stopped by stopping itself. The shell is in the foreground group too: a no-op
  // trap (reset to the default in kash, unlike an ignored signal) keeps Ctrl-C from ending it.
  const command = `trap : INT; ${words}${stdinFrom === undefined ? '' : ` < ${shellQuote(stdinFrom)}`}; exit $?`;
  const child = spawnOnTerminal(command, { ...knownEnv(), TERM: 'xterm', SHELL: '/bin/sh' });
  // What the terminal shows is both of kash's streams: checked as stdout (no password or code).
  const result = withHygiene(args, collect(child)).then((run) => ({ ...run, stdout: run.stdout.replace(/\r/g, '') }));
  child.stdin.on('error', () => undefined);
  const ended = () =>
    child.exitCode !== null || child.signalCode !== null ? String(child.exitCode ?? child.signalCode) : undefined;
  return { child, result, ended, type: (text) => child.stdin.write(text) };
}

// Ctrl-C at a terminal goes to the whole foreground process group: to kash and to the
// command alike. kash must not forward it too, or one Ctrl-C counts twice. Two SIGINTs
// that arrive while the first is still pending merge into one, which would hide a
// forwarded second one at random; so kash is stopped while the terminal's SIGINT reaches
// the command, and continued (to act on its own pending SIGINT) only once the command
// has recorded it.
requires('script').describe.concurrent('Ctrl-C at a terminal', { timeout: 30_000 }, () => {
  it.each([
    ['stdin is the terminal', undefined],
    ['stdin is redirected from a file', '/dev/null'],
  ])('reaches the command exactly once (%s), and kash exits with its status', async (_, stdinFrom) => {
    const record = scratch('signals');
    const session = startOnTerminal(['exec', '--', NODE, CHILD, 'trap', record], stdinFrom);
    try {
      await waitForFile(record, 'ready', session.ended);
      // Where kash became the command there is no kash left to hold back.
      const kashPid = REPLACED ? undefined : kashPidOf(record);
      if (kashPid !== undefined) process.kill(kashPid, 'SIGSTOP');
      try {
        session.type('\u0003');
        await waitForFile(record, 'SIGINT', session.ended);
      } finally {
        if (kashPid !== undefined) process.kill(kashPid, 'SIGCONT');
      }
      const run = await session.result;
      expect(linesOf(record), 'the signals the command got').toEqual(['ready', 'SIGINT']);
      expect(run.code, run.stdout).toBe(7);
      expect(run.stdout).not.toContain('error:');
    } finally {
      session.child.kill('SIGKILL');
    }
  });
});

// In the terminal's foreground group, a `kill` of kash alone (from another terminal, a
// supervisor) reaches kash and not the command: forwarded, once, as the terminal's own
// signals are not.
requires('script').describe.concurrent('kill of kash in the foreground of a terminal', { timeout: 30_000 }, () => {
  it.each(['SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGWINCH'] as const)(
    '%s reaches the command exactly once, and kash exits with its status',
    async (signal) => {
      const record = scratch('signals');
      const session = startOnTerminal(['exec', '--', NODE, CHILD, 'trap', record]);
      try {
        await waitForFile(record, 'ready', session.ended);
        process.kill(kashPidOf(record), signal);
        await waitForFile(record, signal, session.ended);
        const run = await session.result;
        expect(linesOf(record), 'the signals the command got').toEqual(['ready', signal]);
        expect(run.code, run.stdout).toBe(7);
      } finally {
        session.child.kill('SIGKILL');
      }
    },
  );
});

// Under a terminal but not in its foreground group (a background job), a terminal's
// signals do not reach the command: a `kill -INT` of kash is kash's alone, and forwarded.
requires('script').describe.concurrent('kill -INT of kash in the background of a terminal', { timeout: 30_000 }, () => {
  it('reaches the command exactly once, and kash exits with its status', async () => {
    const record = scratch('signals');
    const words = [NODE, KASH_BIN, 'exec', '--', NODE, CHILD, 'trap', record].map(shellQuote).join(' ');
    // `set -m`: job control, so the job gets a process group of its own, not the terminal's.
    const child = spawnOnTerminal(`set -m; ${words} & wait $!; exit $?`, {
      ...knownEnv(),
      TERM: 'xterm',
      SHELL: '/bin/sh',
    });
    const result = collect(child);
    child.stdin.on('error', () => undefined);
    const ended = () => (child.exitCode !== null || child.signalCode !== null ? 'ended' : undefined);
    try {
      await waitForFile(record, 'ready', ended);
      process.kill(kashPidOf(record), 'SIGINT');
      await waitForFile(record, 'SIGINT', ended);
      const run = await result;
      expect(linesOf(record)).toEqual(['ready', 'SIGINT']);
      expect(run.code, run.stdout).toBe(7);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe.concurrent('when the command cannot run', { timeout: 30_000 }, () => {
  /** A command that would leave a marker file if it ran. */
  function marking(): { marker: string; command: string[] } {
    const marker = scratch('marker');
    return { marker, command: [NODE, CHILD, 'touch', marker] };
  }

  it('the marker of a command that does run appears (so its absence below means something)', async () => {
    const { marker, command } = marking();
    const run = await kash(['exec', '--', ...command]);
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(marker)).toBe(true);
  });

  it.each([
    ['an empty store', {}, []],
    ['an unknown profile', {}, ['--profile', 'nobody']],
    ['only KASH_APIKEY set', { KASH_APIKEY: FROM_ENV.apiKey }, []],
    ['only KASH_SHOPID set', { KASH_SHOPID: FROM_ENV.shopId }, []],
  ] as Array<[string, Env, string[]]>)(
    'not logged in (%s) is exit 5, and the command never starts',
    async (_, extra, globals) => {
      const { marker, command } = marking();
      const useEmpty = globals.length === 0 ? { KASH_CONFIG_DIR: emptyDir } : {};
      const run = await kash([...globals, 'exec', '--', ...command], { ...useEmpty, ...extra });
      expect(run.code, run.stderr).toBe(5);
      expect(run.stdout).toBe('');
      // One of the two variables alone is said to be ignored, then the error.
      expect(run.stderr).toMatch(
        /^(warning: KASH_(APIKEY|SHOPID) is set but KASH_(SHOPID|APIKEY) is not, so neither is used[^\n]*\n)?error: not logged in/,
      );
      expect(existsSync(marker)).toBe(false);
    },
  );

  it('a corrupt store is exit 6, and the command never starts', async () => {
    const dir = scratch('corrupt');
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(join(dir, 'credentials.json'), '{"version": 1, "profiles": {', { mode: 0o600 });
    const { marker, command } = marking();
    const run = await kash(['exec', '--', ...command], { KASH_CONFIG_DIR: dir });
    expect(run.code, run.stderr).toBe(6);
    expect(run.stderr).toContain(join(dir, 'credentials.json'));
    expect(existsSync(marker)).toBe(false);
  });

  it('a prefix that no variable name can start with is exit 2, and the command never starts', async () => {
    const { marker, command } = marking();
    const run = await kash(['exec', '--prefix', 'MY-', '--', ...command]);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/^error: /);
    expect(existsSync(marker)).toBe(false);
  });

  it('a missing command is 127, with `error: command not found: …`', async () => {
    const run = await kash(['exec', '--', 'kash-test-no-such-command', 'arg']);
    expect(run.code, run.stderr).toBe(127);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^error: command not found: kash-test-no-such-command\n/);
  });

  it('a missing path is 127 too', async () => {
    const path = join(root, 'no-such-dir', 'script.sh');
    const run = await kash(['exec', '--', path]);
    expect(run.code, run.stderr).toBe(127);
    expect(run.stderr).toMatch(
      new RegExp(`^error: command not found: ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n`),
    );
  });

  it.each([
    ['a file without execute permission', 'file'],
    ['a directory', 'dir'],
  ])('%s is 126, with an error line, and nothing runs', async (_, kind) => {
    const { marker } = marking();
    const path = scratch('not-executable');
    if (kind === 'dir') mkdirSync(path);
    else {
      writeFileSync(path, `#!/bin/sh\ntouch '${marker}'\n`);
      chmodSync(path, 0o644);
    }
    const run = await kash(['exec', '--', path]);
    expect(run.code, run.stderr).toBe(126);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^error: .+\n/);
    expect(existsSync(marker)).toBe(false);
  });

  it.each([[['exec', '--']], [['exec']], [['exec', '--', '']]])(
    'no command (kash %j) is a usage error, exit 2',
    async (args) => {
      const run = await kash(args);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/error: /);
    },
  );
});

interface Event {
  kind: 'module' | 'fetch' | 'process' | 'connect' | 'write';
  detail: string;
}

async function traced(args: string[], extra: Env = {}): Promise<{ run: KashRun; events: Event[] }> {
  const trace = scratch('trace');
  writeFileSync(trace, '');
  const run = await runKash(args, { nodeArgs: ['--require', TRACER], env: knownEnv({ KASH_TRACE: trace, ...extra }) });
  const events = linesOf(trace).map((line) => JSON.parse(line) as Event);
  return { run, events };
}

const libraries = (events: Event[]) => [
  ...new Set(
    events
      .filter((e) => e.kind === 'module' && /\/dist\/lib\//.test(e.detail))
      .map((e) => e.detail.replace(/^.*\/dist\//, 'dist/')),
  ),
];

// The tracer pattern of print-path.test.ts (whose last test shows that the tracer does see
// a lazy library, fetch, a connection and a write when they happen).
describe.concurrent('what kash exec does itself', { timeout: 30_000 }, () => {
  it.each([
    ['saved credentials', {}],
    ['credentials from the environment', { KASH_APIKEY: FROM_ENV.apiKey, KASH_SHOPID: FROM_ENV.shopId }],
  ] as Array<[string, Env]>)(
    'with %s: no library, no fetch, no connection, no file written; the only processes are the command and the witness of group signals',
    async (_, extra) => {
      const marker = scratch('marker');
      const { run, events } = await traced(['exec', '--', NODE, CHILD, 'touch', marker], extra);
      expect(run.code, run.stderr).toBe(0);
      expect(existsSync(marker), 'the command ran').toBe(true);
      expect(libraries(events)).toEqual([]);
      // Where kash waits for the command, a shell in its group tells kash's own signals from
      // the group's: started first, as kash's handlers are in place before the command runs.
      const processes = REPLACED ? [NODE] : ['/bin/sh', NODE];
      expect(events.filter((e) => e.kind !== 'module')).toEqual(
        processes.map((detail) => ({ kind: 'process', detail })),
      );
    },
  );
});
