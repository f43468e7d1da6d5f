// `npm run bench`: kash's start-up and login cost under each supported Node major, as
// ratios to a floor run with the same node in the same rounds, so that machine speed
// cancels out. Instructions (callgrind) hardly move from run to run; wall time and peak
// memory are what a person at a prompt feels. Prints and writes figures, marks those over
// their targets; never fails on them.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { accounts, startEmulator } from '../support/emulator.js';
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
const TARGET = { wall: 1.2, memory: 1.1, login: 1.15 };

const unsupported = unsupportedPlatform('bench');
if (unsupported) {
  process.stderr.write(`${unsupported}\n`);
  process.exit(2);
}

process.stdout.write(
  'kash bench: ratios to a floor run in the same rounds with the same node; ✗ marks a figure over its target\n' +
    `  instructions  callgrind, median of ${COUNTS} runs, to node empty.cjs\n` +
    `  wall          median of ${RUNS} runs, to node -e 0 (kash login: to a bare fetch POST)\n` +
    `  memory        peak resident set, median of ${MEMORY_RUNS} runs, to node -e 0\n`,
);

/** Whether a tool runs at all here; the bench says what it lacks and goes on without it. */
function missing(tool: string, install: string): boolean {
  if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).error === undefined) return false;
  process.stdout.write(`${tool} not found: apt-get install ${install}\n`);
  return true;
}
const counting = !missing('valgrind', 'valgrind');
const weighing = !missing('python3', 'python3');

const work = mkdtempSync(join(tmpdir(), 'kash-bench-'));
const emulator = await startEmulator();

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

interface Run {
  args: string[];
  env?: Record<string, string>;
}

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
        const child = spawn(node, run.args, { env: envOf(run), stdio: 'ignore' });
        child.on('error', fail);
        child.on('exit', (code) =>
          code === 0 ? done(Number(process.hrtime.bigint() - started) / 1e6) : fail(failed(run, code, '')),
        );
      }),

    /** Runs once, for what it leaves behind. */
    setUp: (run: Run, input: string) => {
      const { status, stderr } = spawnSync(node, run.args, { env: envOf(run), input, encoding: 'utf8' });
      if (status !== 0) throw failed(run, status, stderr);
    },

    /** Instructions executed, all threads, as callgrind counts them. */
    instructions: (run: Run) =>
      new Promise<number>((done, fail) => {
        let stderr = '';
        const child = spawn('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', node, ...run.args], {
          env: envOf(run),
          stdio: ['ignore', 'ignore', 'pipe'],
        });
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
        const child = spawn('python3', ['-c', probe, node, ...run.args], { env: envOf(run) });
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
  target: number;
}

interface Row {
  name: string;
  instructions?: Figure;
  wall: Figure;
  memory?: Figure;
}

async function measure(version: string, node: string): Promise<Row[]> {
  const folder = join(work, version);
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
  const timed = [floor, ...kashRuns, bare, kashLogin];
  // The warm-up also fills the compile cache before anything is measured.
  for (const r of [...timed, emptyScript]) await run.time(r);

  const counts = [emptyScript, ...kashRuns].map((): number[] => []);
  if (counting) {
    for (let round = 0; round < COUNTS; round++) {
      const jobs = [emptyScript, ...kashRuns].map((r) => () => run.instructions(r));
      for (const [i, n] of (await allAtOnce(jobs)).entries()) counts[i]!.push(n);
    }
  }

  const times = timed.map((): number[] => []);
  const weighed = [floor, ...kashRuns];
  const peaks = weighed.map((): number[] => []);
  for (let round = 0; round < RUNS; round++) {
    for (const [i, r] of timed.entries()) times[i]!.push(await run.time(r));
    if (weighing && round < MEMORY_RUNS) for (const [i, r] of weighed.entries()) peaks[i]!.push(await run.peakKb(r));
  }

  const ratio = (of: number[], to: number[]) => median(of) / median(to);
  const rows: Row[] = commands.map((c, i) => ({
    name: c.name,
    ...(counting && {
      instructions: { ratio: ratio(counts[i + 1]!, counts[0]!), target: c.instructions(Number(version.split('.')[0])) },
    }),
    wall: { ratio: ratio(times[i + 1]!, times[0]!), target: TARGET.wall },
    ...(weighing && { memory: { ratio: ratio(peaks[i + 1]!, peaks[0]!), target: TARGET.memory } }),
  }));
  rows.push({ name: 'kash login', wall: { ratio: ratio(times.at(-1)!, times.at(-2)!), target: TARGET.login } });
  return rows;
}

const cell = (figure: Figure | undefined) =>
  figure === undefined
    ? ''
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
  await emulator.close();
  rmSync(work, { recursive: true, force: true });
}
