// `npm run bench`: kash's start-up and login cost as ratios to their floors, measured
// side by side in one run (alternating, after a warm-up), so machine speed cancels out.
// Prints and writes figures; never fails on them.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { accounts, startEmulator } from '../support/emulator.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const kash = resolve('bin/kash.js');
const work = mkdtempSync(join(tmpdir(), 'kash-bench-'));
const emulator = await startEmulator();
const env: NodeJS.ProcessEnv = {
  ...process.env,
  KASH_BASE_URL: emulator.url,
  KASH_CONFIG_DIR: join(work, 'config'),
  KASH_NO_INPUT: '1',
};
delete env.KASH_APIKEY;
delete env.KASH_SHOPID;

const bareFetch = join(work, 'bare-fetch.mjs');
writeFileSync(
  bareFetch,
  `const r = await fetch(process.argv[2] + '/workers/getAuthTokenWithPassword.php', { method: 'POST', body: new URLSearchParams({ login: process.argv[3], password: process.env.KASH_PASSWORD }) });\n` +
    `const answer = JSON.parse((await r.text()).replace(/^\\uFEFF/, ''));\nif (!answer.APIKEY) process.exit(1);\n`,
);

interface Case {
  name: string;
  args: string[];
  floor?: string;
  extraEnv?: Record<string, string>;
}

const login = { KASH_PASSWORD: accounts.demo.password };
const cases: Case[] = [
  { name: 'node -e 0', args: ['-e', '0'] },
  { name: 'kash --version', args: [kash, '--version'], floor: 'node -e 0' },
  { name: 'kash whoami', args: [kash, 'whoami'], floor: 'node -e 0' },
  { name: 'kash env', args: [kash, 'env'], floor: 'node -e 0' },
  { name: 'bare fetch POST', args: [bareFetch, emulator.url, accounts.demo.login], extraEnv: login },
  {
    name: 'kash login',
    args: [kash, 'login', '--login', accounts.demo.login],
    floor: 'bare fetch POST',
    extraEnv: login,
  },
];

function once(args: string[], extraEnv: Record<string, string> = {}): Promise<number> {
  return new Promise((done, fail) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { env: { ...env, ...extraEnv }, stdio: 'ignore' });
    child.on('error', fail);
    child.on('exit', (code) =>
      code === 0
        ? done(Number(process.hrtime.bigint() - started) / 1e6)
        : fail(new Error(`${args.join(' ')}: exit ${code}`)),
    );
  });
}

/** Peak resident memory of one run, from the kernel's own accounting of a child (python3's getrusage). */
function peakKb(args: string[], extraEnv: Record<string, string> = {}): Promise<number> {
  const probe =
    'import resource,subprocess,sys\nsubprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL)\nprint(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)';
  return new Promise((done, fail) => {
    let out = '';
    const child = spawn('python3', ['-c', probe, process.execPath, ...args], { env: { ...env, ...extraEnv } });
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('error', fail);
    child.on('exit', () => done(Number(out.trim())));
  });
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

try {
  // Something to show for whoami and env.
  await once([kash, 'login', '--login', accounts.demo.login], login);
  const times = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  const memory = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (const c of cases) await once(c.args, c.extraEnv);
  for (let run = 0; run < RUNS; run++) {
    for (const c of cases) {
      times.get(c.name)!.push(await once(c.args, c.extraEnv));
      if (run < 5) memory.get(c.name)!.push(await peakKb(c.args, c.extraEnv));
    }
  }
  const results = cases.map((c) => {
    const floor = c.floor ?? c.name;
    return {
      name: c.name,
      floor,
      timeRatio: median(times.get(c.name)!) / median(times.get(floor)!),
      memoryRatio: median(memory.get(c.name)!) / median(memory.get(floor)!),
    };
  });
  process.stdout.write(`kash bench: ${RUNS} alternating runs each, medians, Node ${process.version}\n\n`);
  process.stdout.write(`${'case'.padEnd(18)} ${'floor'.padEnd(16)} time   memory\n`);
  for (const r of results.filter((r) => r.floor !== r.name)) {
    process.stdout.write(
      `${r.name.padEnd(18)} ${r.floor.padEnd(16)} ${r.timeRatio.toFixed(2)}×  ${r.memoryRatio.toFixed(2)}×\n`,
    );
  }
  const out = resolve('build/bench.json');
  writeFileSync(out, `${JSON.stringify({ node: process.version, runs: RUNS, results }, null, 2)}\n`);
  process.stdout.write(`\nfigures written to ${out}\n`);
} finally {
  await emulator.close();
  rmSync(work, { recursive: true, force: true });
}
