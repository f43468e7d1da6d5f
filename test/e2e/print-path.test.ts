// The print path (--help, --version, whoami, env) runs in shell start-up files and CI
// loops: it must not load the network client, the prompts or the store writer, touch
// fetch, start a process, connect anywhere or write a file (the code cache, once an
// earlier run of the same kind added to it, is only read). A preloaded tracer records all of these from inside a
// real run of the built CLI.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { collect, KASH_BIN, runKash, useE2e, withHygiene } from '../support/e2e.js';
import { accounts, type Emulator } from '../support/emulator.js';

const TRACER = resolve(import.meta.dirname, '../support/trace.cjs');

interface Event {
  kind: 'module' | 'fetch' | 'process' | 'connect' | 'write';
  detail: string;
}

const e2e = useE2e();
let dir: string;
let emulator: Emulator;

beforeAll(async () => {
  emulator = e2e.emulator;
  dir = e2e.tempDir();
  const saved = {
    apiKey: accounts.demo.apiKey,
    shopId: accounts.demo.shopId,
    login: accounts.demo.login,
    email: null,
    method: 'password',
    baseUrl: emulator.url,
    obtainedAt: '2026-11-28T12:00:00.000Z',
    shopTitle: null,
  };
  mkdirSync(join(dir, 'config'), { mode: 0o700 });
  writeFileSync(
    join(dir, 'config', 'credentials.json'),
    JSON.stringify({ version: 1, profiles: { default: { credentials: saved } } }),
    { mode: 0o600 },
  );
  // The code cache grows once for each kind of run (its first word), by an earlier run of
  // that kind; the traced runs find it.
  for (const args of [['--help'], ['--version'], ['whoami'], ['env'], ['login', '--help']]) {
    const warm = await runKash(args, {
      env: { KASH_CONFIG_DIR: join(dir, 'config'), XDG_CACHE_HOME: join(dir, 'cache') },
    });
    expect(warm.code).toBe(0);
  }
});

let runs = 0;
async function traced(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; events: Event[] }> {
  const trace = join(dir, `trace-${runs++}.jsonl`);
  writeFileSync(trace, '');
  const run = await runKash(args, {
    nodeArgs: ['--require', TRACER],
    env: {
      KASH_CONFIG_DIR: join(dir, 'config'),
      KASH_BASE_URL: emulator.url,
      KASH_TRACE: trace,
      XDG_CACHE_HOME: join(dir, 'cache'),
      ...env,
    },
  });
  const events = readFileSync(trace, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Event);
  return { code: run.code, events };
}

const libraries = (events: Event[]) => [
  ...new Set(
    events
      .filter((e) => e.kind === 'module' && /\/dist\/lib\//.test(e.detail))
      .map((e) => e.detail.replace(/^.*\/dist\//, 'dist/')),
  ),
];
const effects = (events: Event[]) => events.filter((e) => e.kind !== 'module');

describe('the print path', () => {
  it.each([
    [['--help']],
    [['--version']],
    [['whoami']],
    [['whoami', '--json']],
    [['whoami', '--all']],
    [['env']],
    [['env', '--format', 'json']],
    [['login', '--help']],
  ])(
    'kash %j loads no library, touches no fetch, starts no process, connects nowhere, writes no file',
    async (args) => {
      const { code, events } = await traced(args);
      expect(code).toBe(0);
      expect(libraries(events)).toEqual([]);
      expect(effects(events)).toEqual([]);
    },
  );

  it('with colour forced, loads chalk and nothing else', async () => {
    const { code, events } = await traced(['whoami'], { FORCE_COLOR: '1' });
    expect(code).toBe(0);
    expect(libraries(events)).toEqual(['dist/lib/chalk.cjs']);
    expect(effects(events)).toEqual([]);
  });

  it('with colour forced but --no-color given, does not even load chalk', async () => {
    const { code, events } = await traced(['whoami', '--no-color'], { FORCE_COLOR: '1' });
    expect(code).toBe(0);
    expect(libraries(events)).toEqual([]);
  });

  it('logout loads no library: not the client, not the prompts', async () => {
    const { code, events } = await traced(['logout', '--profile', 'nobody']);
    expect(code).toBe(0);
    expect(libraries(events)).toEqual([]);
    expect(events.some((e) => e.kind === 'fetch')).toBe(false);
  });
});

describe('the tracer itself', () => {
  // Without this, a tracer that records nothing would pass every test above.
  it('sees a login touch fetch, connect and write the store, loading no library', async () => {
    const { code, events } = await traced(['login', '--login', accounts.demo.login, '--profile', 'traced'], {
      KASH_PASSWORD: accounts.demo.password,
    });
    expect(code).toBe(0);
    expect(libraries(events)).toEqual([]);
    expect(events.some((e) => e.kind === 'fetch')).toBe(true);
    expect(events.some((e) => e.kind === 'connect')).toBe(true);
    expect(events.some((e) => e.kind === 'write' && e.detail.includes('credentials.json'))).toBe(true);
  });
});

describe("Node's own modules on the print path", () => {
  // What kash adds to Node's start-up is mostly which of Node's own modules it makes load:
  // the network stack, streams, child processes; and os and timers/promises, which are not
  // in Node's start-up snapshot either. `process` is one that only commander requires: a
  // print path line runs without commander. `module` brings Node's ES module loader and
  // source maps, compiled from their sources at each start. Measured from inside a real run.
  const costly = [
    'module',
    'internal/modules/esm/loader',
    'internal/source_map/source_map',
    'net',
    'tls',
    'http',
    'https',
    'child_process',
    'stream',
    'tty',
    'readline',
    'zlib',
    'os',
    'timers/promises',
    'process',
  ];

  /** Node's own modules loaded by the end of a run of `script` (kash when not given). */
  async function modulesOf(args: string[], script = KASH_BIN): Promise<string[]> {
    const probe = join(dir, 'modules-probe.cjs');
    // Written once: a run must never find it half-written by another.
    if (!existsSync(probe)) {
      writeFileSync(
        `${probe}.tmp`,
        `process.on('exit', () => require('node:fs').writeSync(3, JSON.stringify(process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13)))));`,
      );
      renameSync(`${probe}.tmp`, probe);
    }
    const child = spawn(process.execPath, ['--require', probe, script, ...args], {
      env: e2e.env({
        KASH_CONFIG_DIR: join(dir, 'config'),
        KASH_BASE_URL: emulator.url,
        XDG_CACHE_HOME: join(dir, 'cache'),
      }),
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
    child.stdin.end();
    let report = '';
    const reported = new Promise((done) =>
      child.stdio[3]!.on('data', (chunk: Buffer) => (report += chunk.toString())).on('close', done),
    );
    if (script === KASH_BIN) await withHygiene(args, collect(child));
    else await collect(child);
    await reported;
    // No report is no answer: never read as "nothing loaded".
    return JSON.parse(report) as string[];
  }

  /** What kash loads of them beyond what an empty script does. */
  async function loaded(args: string[]): Promise<string[]> {
    const empty = join(dir, 'empty.cjs');
    writeFileSync(empty, '');
    const [own, floor] = await Promise.all([modulesOf(args), modulesOf([], empty)]);
    return own.filter((name) => !floor.includes(name));
  }

  it.each([[['--version']], [['whoami']], [['env']], [['whoami', '--json']], [['env', '--profile', 'default']]])(
    'kash %j loads none of the network, stream or process modules, nor commander',
    async (args) => {
      const added = await loaded(args);
      expect(added.filter((name) => costly.includes(name))).toEqual([]);
    },
  );

  // Without this, a probe that saw nothing would pass the test above.
  it('sees commander load process, and --help load the streams', async () => {
    const added = await loaded(['env', '--help']);
    expect(added).toContain('process');
    expect(added).toContain('stream');
  });
});
