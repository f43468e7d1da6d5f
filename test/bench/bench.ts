// `npm run bench`: kash's start-up and login cost under each supported Node major, as
// ratios to a floor run with the same node in the same rounds, so that machine speed
// cancels out. Instructions (callgrind) hardly move from run to run; wall time and peak
// memory are what a person at a prompt feels. Prints and writes figures, marks those over
// their targets; never fails on them.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { accounts } from '../support/emulator.js';
import { type KeyringSession, startKeyringSession, stopAllKeyringSessions } from '../support/keyring-session.js';
import { majorsFrom, nodeOf, unsupportedPlatform } from '../support/node-binaries.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const MEMORY_RUNS = Math.min(5, RUNS);
const COUNTS = 3;
const MAJORS = majorsFrom(process.env.KASH_BENCH_MAJORS);
const kash = resolve('bin/kash.js');

interface Command {
  name: string;
  args: string[];
  /** The most instructions it may take, as a multiple of an empty script's, by Node major. */
  instructions: (major: number) => number;
}

const printPath = (major: number) => (major === 20 ? 1.1 : 1.2);
const commands: Command[] = [
  { name: 'kash --version', args: ['--version'], instructions: printPath },
  { name: 'kash env', args: ['env'], instructions: printPath },
  { name: 'kash whoami', args: ['whoami'], instructions: printPath },
  // What bash's script runs at `kash env --<TAB>`: the words so far, then the one being completed.
  { name: 'kash __complete env --', args: ['__complete', 'env', '--'], instructions: () => 1.25 },
];
// A keyring env: against a bare script that reads one secret with the same library.
const TARGET = { wall: 1.2, memory: 1.1, login: 1.15, keyring: 1.1 };

const unsupported = unsupportedPlatform('bench');
if (unsupported) {
  process.stderr.write(`${unsupported}\n`);
  process.exit(2);
}

process.stdout.write(
  'kash bench: ratios to a floor run in the same rounds with the same node; ✗ marks a figure over its target\n' +
    `  instructions  callgrind, median of ${COUNTS} runs, to node empty.cjs\n` +
    `  wall          median of ${RUNS} rounds' ratios, each run beside its floor: node -e 0 (kash login: a bare fetch POST)\n` +
    `  memory        peak resident set, median of ${MEMORY_RUNS} runs, to node -e 0\n` +
    "  , keyring     of a profile whose key is in a GNOME Keyring on a D-Bus session of the bench's\n" +
    '                own; kash env then to a bare read of one secret with the same library\n',
);

/** Whether a tool runs at all here; the bench says what it lacks and goes on without it. */
function missing(tool: string, install: string): boolean {
  if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).error === undefined) return false;
  process.stdout.write(`${tool} not found: apt-get install ${install}\n`);
  return true;
}
const counting = !missing('valgrind', 'valgrind');
const weighing = !missing('python3', 'python3');
const keyringTools = [missing('gnome-keyring-daemon', 'gnome-keyring'), missing('dbus-daemon', 'dbus')];
if (keyringTools.some(Boolean)) process.stdout.write('  so no keyring rows\n');

/**
 * The emulator in a process of its own, as the service is: not served by the event loop
 * that also waits on every run. Logins still come out anywhere from 1.06x to 1.28x a bare
 * fetch from one bench to the next, where 30 pairs timed from a small python loop gave
 * 1.11-1.13x.
 */
async function emulatorProcess(): Promise<{ url: string; close(): Promise<void> }> {
  const child = spawn(process.execPath, [new URL('./emulator-main.js', import.meta.url).pathname, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((found, fail) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const at = /emulator at (http:\/\/\S+)/.exec(out)?.[1];
      if (at) found(at);
    });
    child.on('error', fail);
    child.on('exit', (code) => fail(new Error(`the emulator ended (exit ${code}) before it said its URL`)));
  });
  child.stdout.resume();
  return {
    url,
    close: () =>
      new Promise((closed) => {
        if (child.exitCode !== null) return closed();
        child.once('exit', () => closed());
        child.kill();
      }),
  };
}

const work = mkdtempSync(join(tmpdir(), 'kash-bench-'));
const emulator = await emulatorProcess();
// As the e2e tests start it (test/support/keyring-session.ts): never the keyring of whoever runs the bench.
const keyring: KeyringSession | undefined = keyringTools.some(Boolean)
  ? undefined
  : await startKeyringSession(mkdtempSync(join(work, 'keyring-')));

// Nothing of the caller's kash or Node settings reaches the runs: a profile, NODE_OPTIONS,
// a compile cache elsewhere, or NODE_EXTRA_CA_CERTS, with which Node 20 reads a whole CA
// bundle at start (five times an empty script's instructions, hiding kash's own).
const baseEnv: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !/^(KASH|NODE)_/.test(name)),
);

const bareFetch = join(work, 'bare-fetch.mjs');
writeFileSync(
  bareFetch,
  `const r = await fetch(process.argv[2] + '/workers/getAuthTokenWithPassword.php', { method: 'POST', body: new URLSearchParams({ login: process.argv[3], password: process.env.KASH_PASSWORD }) });\n` +
    `const answer = JSON.parse((await r.text()).replace(/^\\uFEFF/, ''));\nif (!answer.APIKEY) process.exit(1);\n`,
);
const empty = join(work, 'empty.cjs');
writeFileSync(empty, '');
const bareKeyringRead = join(work, 'bare-keyring-read.cjs');
writeFileSync(
  bareKeyringRead,
  `const { AsyncEntry } = require(${JSON.stringify(createRequire(import.meta.url).resolve('@napi-rs/keyring'))});\n` +
    `new AsyncEntry('kash', process.argv[2], { linux: { store: 'secret-service' } }).getPassword().then((key) => { if (!key) process.exit(1); });\n`,
);

interface Run {
  args: string[];
  env?: Record<string, string | undefined>;
}

/**
 * Given to every node the bench runs, floors included. V8 seeds its hash tables at random
 * at each start and, for that, searches a random prime: 0 to 17 million instructions from
 * run to run, as much as kash's own work on Node 22 and later. A fixed random seed makes
 * each count repeat to within some thousands; this one's search is the shortest of seeds
 * 1 to 8 on every major, so the floors are the least a start costs. Not --hash-seed: V8
 * keeps a code cache only for the flags it was made with, and --random-seed is the one it
 * leaves out, so Node's own cache of its built-in modules stays in use as it is for users
 * (with --hash-seed, node:child_process alone cost 54 M instructions on Node 22, not 13 M).
 */
const STEADY = ['--random-seed=5'];

/** One major's runs: its node, and a home, cache and config folder of its own. */
function runner(node: string, folder: string) {
  const env: NodeJS.ProcessEnv = {
    ...baseEnv,
    HOME: join(folder, 'home'),
    // V8's compile cache, which kash keeps under it: warmed by this bench's runs only.
    XDG_CACHE_HOME: join(folder, 'cache'),
    XDG_CONFIG_HOME: join(folder, 'home', '.config'),
    KASH_CONFIG_DIR: join(folder, 'config'),
    KASH_NO_INPUT: '1',
  };
  mkdirSync(env.HOME!, { recursive: true });
  const envOf = (run: Run) => ({ ...env, ...run.env });

  const failed = (run: Run, code: number | null, stderr: string) =>
    new Error(`${[node, ...run.args].join(' ')}: exit ${code}\n${stderr}`);

  return {
    /** Milliseconds from spawn to exit. */
    time: (run: Run) =>
      new Promise<number>((done, fail) => {
        const started = process.hrtime.bigint();
        const child = spawn(node, [...STEADY, ...run.args], { env: envOf(run), stdio: 'ignore' });
        child.on('error', fail);
        child.on('exit', (code) =>
          code === 0 ? done(Number(process.hrtime.bigint() - started) / 1e6) : fail(failed(run, code, '')),
        );
      }),

    /** Runs once, for what it leaves behind. */
    setUp: (run: Run, input: string) => {
      const { status, stderr } = spawnSync(node, [...STEADY, ...run.args], {
        env: envOf(run),
        input,
        encoding: 'utf8',
      });
      if (status !== 0) throw failed(run, status, stderr);
    },

    /** Instructions executed, all threads, as callgrind counts them. */
    instructions: (run: Run) =>
      new Promise<number>((done, fail) => {
        let stderr = '';
        const child = spawn(
          'valgrind',
          ['--tool=callgrind', '--callgrind-out-file=/dev/null', node, ...STEADY, ...run.args],
          {
            env: envOf(run),
            stdio: ['ignore', 'ignore', 'pipe'],
          },
        );
        child.stderr.on('data', (chunk) => (stderr += chunk));
        child.on('error', fail);
        child.on('exit', (code) => {
          const collected = /Collected : (\d+)/.exec(stderr)?.[1];
          if (code === 0 && collected) done(Number(collected));
          else fail(failed(run, code, stderr));
        });
      }),

    /**
     * Peak resident memory, in kB. Through python3: a process the bench starts itself
     * inherits the bench's own high-water mark, emulator and all, at fork; python's
     * child starts from python's few megabytes.
     */
    peakKb: (run: Run) =>
      new Promise<number>((done, fail) => {
        const probe =
          'import resource,subprocess,sys\nrun=subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL)\nprint(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\nsys.exit(run.returncode)';
        let out = '';
        const child = spawn('python3', ['-c', probe, node, ...STEADY, ...run.args], { env: envOf(run) });
        child.stdout.on('data', (chunk) => (out += chunk));
        child.on('error', fail);
        child.on('exit', (code) => (code === 0 ? done(Number(out.trim())) : fail(failed(run, code, ''))));
      }),
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** Runs each job, as many at once as there are cores: instruction counts do not depend on load. */
async function allAtOnce<T>(jobs: Array<() => Promise<T>>): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < jobs.length; i = next++) results[i] = await jobs[i]!();
  };
  await Promise.all(Array.from({ length: availableParallelism() }, lane));
  return results;
}

interface Figure {
  ratio: number;
  /** None for a floor of another row, shown for what it costs itself. */
  target?: number;
}

interface Row {
  name: string;
  instructions?: Figure;
  wall: Figure;
  memory?: Figure;
}

/** The keyring rows' runs, on the bench's own keyring: whoami, env and the bare read env is measured against. */
function keyringRunsOf(folder: string, run: ReturnType<typeof runner>, session: KeyringSession) {
  const env = { ...session.env, KASH_CONFIG_DIR: join(folder, 'keyring') };
  run.setUp({ args: [kash, 'login', '--api-key-stdin', '--shop-id', '42', '--storage', 'keyring'], env }, 'k-123\n');
  const store = JSON.parse(readFileSync(join(env.KASH_CONFIG_DIR!, 'credentials.json'), 'utf8'));
  const keyringId: string = store.profiles.default.credentials.keyringId;
  return {
    whoami: { args: [kash, 'whoami'], env },
    env: { args: [kash, 'env'], env },
    bare: { args: [bareKeyringRead, keyringId], env },
  };
}

async function measure(version: string, node: string): Promise<Row[]> {
  const folder = join(work, version);
  const major = Number(version.split('.')[0]);
  const run = runner(node, folder);
  const login = {
    KASH_BASE_URL: emulator.url,
    KASH_PASSWORD: accounts.demo.password,
    // Its own store: the profile that whoami and env show stays as it was saved.
    KASH_CONFIG_DIR: join(folder, 'login'),
  };
  const floor: Run = { args: ['-e', '0'] };
  const emptyScript: Run = { args: [empty] };
  const kashRuns: Run[] = commands.map((c) => ({ args: [kash, ...c.args] }));
  const bare: Run = { args: [bareFetch, emulator.url, accounts.demo.login], env: login };
  const kashLogin: Run = { args: [kash, 'login', '--login', accounts.demo.login, '--storage', 'file'], env: login };

  // A profile for whoami and env to show, from a key as a script would give it.
  run.setUp({ args: [kash, 'login', '--api-key-stdin', '--shop-id', '42', '--storage', 'file'] }, 'k-123\n');
  const inKeyring = keyring && keyringRunsOf(folder, run, keyring);
  const keyringRuns = inKeyring ? [inKeyring.whoami, inKeyring.env, inKeyring.bare] : [];
  const counted = [emptyScript, ...kashRuns];
  const timed = [floor, ...kashRuns, bare, kashLogin, ...keyringRuns];
  // The warm-up also fills the compile cache before anything is measured.
  for (const r of [...timed, emptyScript]) await run.time(r);

  const counts = new Map([...counted, ...keyringRuns].map((r) => [r, [] as number[]]));
  if (counting) {
    for (let round = 0; round < COUNTS; round++) {
      const found = await allAtOnce(counted.map((r) => () => run.instructions(r)));
      for (const [i, n] of found.entries()) counts.get(counted[i]!)!.push(n);
      // One at a time: under callgrind a keyring call takes seconds, and beside other runs
      // it outlasts kash's own bound (3 s), at which kash ends itself.
      for (const r of keyringRuns) {
        const n = await run.instructions(r).catch((error: Error) => {
          if (!/did not answer within/.test(error.message)) throw error;
          return undefined;
        });
        if (n !== undefined) counts.get(r)!.push(n);
      }
    }
  }

  // Each run with the floor its wall time is told against: that floor again, just before
  // or just after it, by turns from round to round.
  const timedAgainst = new Map<Run, Run>([
    ...kashRuns.map((r): [Run, Run] => [r, floor]),
    [kashLogin, bare],
    ...(inKeyring
      ? ([
          [inKeyring.whoami, floor],
          [inKeyring.bare, floor],
          [inKeyring.env, inKeyring.bare],
        ] as Array<[Run, Run]>)
      : []),
  ]);
  const wallRatios = new Map([...timedAgainst.keys()].map((r) => [r, [] as number[]]));
  const weighed = [floor, ...kashRuns];
  const peaks = new Map(weighed.map((r) => [r, [] as number[]]));
  for (let round = 0; round < RUNS; round++) {
    for (const [r, to] of timedAgainst) {
      const first = round % 2 === 0;
      const before = await run.time(first ? r : to);
      const after = await run.time(first ? to : r);
      wallRatios.get(r)!.push(first ? before / after : after / before);
    }
    if (weighing && round < MEMORY_RUNS) for (const r of weighed) peaks.get(r)!.push(await run.peakKb(r));
  }

  const figure = (of: number[], to: number[], target?: number): Figure => ({
    ratio: median(of) / median(to),
    ...(target !== undefined && { target }),
  });
  /**
   * The median of a run's wall-time ratios, each to its floor run beside it: the machine's
   * speed drifting over the rounds moves both (medians of their own swung a login from
   * 1.08x to 1.21x), and which of the two goes first changes every round, so that going
   * first or second weighs on neither. On two shared cores a ratio still moves by some
   * 0.1 from one bench to the next; the instruction counts are the figures to steer by.
   */
  const paired = (r: Run, target?: number): Figure => ({
    ratio: median(wallRatios.get(r)!),
    ...(target !== undefined && { target }),
  });
  /** A row of `r`: its instructions against those of `counted`, its wall time against its floor in `timedAgainst`. */
  const row = (name: string, r: Run, counted: Run, targets: number[]) => {
    const complete = counting && counts.get(r)!.length === COUNTS;
    if (counting && !complete)
      process.stdout.write(`${name}: no instructions, a run under callgrind outlasted kash's keyring bound\n`);
    return {
      name,
      ...(complete && { instructions: figure(counts.get(r)!, counts.get(counted)!, targets[0]) }),
      wall: paired(r, targets[1]),
    };
  };
  const rows: Row[] = commands.map((c, i) => ({
    ...row(c.name, kashRuns[i]!, emptyScript, [c.instructions(major), TARGET.wall]),
    ...(weighing && { memory: figure(peaks.get(kashRuns[i]!)!, peaks.get(floor)!, TARGET.memory) }),
  }));
  rows.push({ name: 'kash login', wall: paired(kashLogin, TARGET.login) });
  if (inKeyring) {
    const whoami = commands.find((c) => c.args[0] === 'whoami')!;
    rows.push(
      row('kash whoami, keyring', inKeyring.whoami, emptyScript, [whoami.instructions(major), TARGET.wall]),
      row('bare keyring read', inKeyring.bare, emptyScript, []),
      row('kash env, keyring', inKeyring.env, inKeyring.bare, [TARGET.keyring, TARGET.keyring]),
    );
  }
  return rows;
}

const cell = (figure: Figure | undefined) =>
  figure === undefined
    ? ''
    : figure.target === undefined
      ? `${figure.ratio.toFixed(2)}×`
      : `${figure.ratio.toFixed(2)}× ≤${figure.target}×${Number(figure.ratio.toFixed(2)) > figure.target ? ' ✗' : ''}`;

const line = (...cells: string[]) => `${cells.map((c, i) => (i < 3 ? c.padEnd(i === 0 ? 24 : 18) : c)).join(' ')}\n`;

const results: Array<{ node: string; rows: Row[] }> = [];
try {
  for (const major of MAJORS) {
    const { version, binary } = await nodeOf(major);
    const rows = await measure(version, binary);
    results.push({ node: version, rows });
    process.stdout.write(`\nNode ${version}\n${line('', 'instructions', 'wall', 'memory')}`);
    for (const row of rows)
      process.stdout.write(line(row.name, cell(row.instructions), cell(row.wall), cell(row.memory)));
  }
  const out = resolve('build/bench.json');
  writeFileSync(out, `${JSON.stringify({ runs: RUNS, counts: COUNTS, results }, null, 2)}\n`);
  process.stdout.write(`\nfigures written to ${out}\n`);
} finally {
  await Promise.all([emulator.close(), stopAllKeyringSessions()]);
  rmSync(work, { recursive: true, force: true });
}
