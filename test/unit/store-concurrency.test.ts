// Real OS processes against one store folder: concurrent saves, and kill -9 mid-save.
// The worker (test/support/store-worker.ts) is bundled with esbuild so that plain `node`
// runs it.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseStore, type StoreData } from '../../src/store/records.js';
import { CredentialStore } from '../../src/store/store.js';
import { type BuiltWorker, buildStoreWorker } from '../support/build-store-worker.js';
import { credentialsFor, LOOP_SETS } from '../support/store-worker.js';

// Ten savers at once already lose profiles to an unlocked save, and a dozen kills land
// mid-save often enough to catch one written in place; test/e2e/stress.test.ts does the same
// with the CLI itself, and more of it under KASH_STRESS=full.
const SAVERS = 10;
const KILLS = 12;

let built: BuiltWorker;
let worker: string;
let base: string;
let dir: string;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  built = await buildStoreWorker();
  worker = built.path;
});

afterAll(() => {
  built.remove();
});

beforeEach(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'kash-store-')));
  dir = join(base, 'kash');
});

afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
  rmSync(base, { recursive: true, force: true });
});

function startWorker(args: string[]): ChildProcess {
  const child = spawn(process.execPath, [worker, ...args], {
    env: { ...process.env, KASH_STORE_WORKER: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

async function runWorker(args: string[]): Promise<Finished> {
  const child = startWorker(args);
  child.stdin?.end();
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout?.resume();
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  return { code, signal, stderr };
}

function waitForLine(child: ChildProcess, wanted: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.split('\n').includes(wanted)) resolve();
    });
    child.once('exit', (code, signal) =>
      reject(new Error(`worker ended (${code ?? signal}) before "${wanted}": ${stderr}`)),
    );
  });
}

/** The store file as it is on disk, checked to be a whole, valid store. */
function storeOnDisk(file: string): StoreData {
  const text = readFileSync(file, 'utf8');
  expect(text.trim()).not.toBe('');
  const data: unknown = JSON.parse(text);
  const parsed = parseStore(data);
  if (!('data' in parsed)) throw new Error(`not a store: ${JSON.stringify(parsed)}`);
  return parsed.data;
}

describe('the store across processes', () => {
  it(`keeps every profile when ${SAVERS} processes save different profiles at once`, async () => {
    const store = new CredentialStore(dir, () => {});
    await store.update((data) => {
      data.profiles.existing = { credentials: credentialsFor('key-existing', 'shop-existing') };
    });

    const names = Array.from({ length: SAVERS }, (_, i) => `p${i}`);
    const results = await Promise.all(names.map((name) => runWorker(['save', dir, name, `key-${name}`])));
    results.forEach((result, i) => {
      expect({ profile: names[i], ...result }).toEqual({ profile: names[i], code: 0, signal: null, stderr: '' });
    });

    const data = storeOnDisk(store.file);
    expect(Object.keys(data.profiles).sort()).toEqual(['existing', ...names].sort());
    for (const name of names) {
      expect(data.profiles[name]?.credentials).toEqual(credentialsFor(`key-${name}`, `shop-${name}`));
    }
    expect(data.profiles.existing?.credentials).toEqual(credentialsFor('key-existing', 'shop-existing'));
    expect(store.read()).toEqual(data);
    expect(existsSync(`${store.file}.lock`)).toBe(false);
  }, 15_000);

  it('leaves the old or the new store whenever a saving process is killed with SIGKILL', async () => {
    const store = new CredentialStore(dir, () => {});
    await store.update((data) => {
      data.profiles.main = { credentials: LOOP_SETS[0] };
    });
    const possible = [LOOP_SETS[0], LOOP_SETS[1]];

    // Each round's process is started during the previous round (Node's start-up is most of
    // the cost) and begins saving when told to.
    const startLoop = () => {
      const child = startWorker(['loop', dir, 'wait']);
      const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      return { child, exited };
    };
    let next = startLoop();
    for (let round = 0; round < KILLS; round++) {
      const { child, exited } = next;
      const ready = waitForLine(child, 'ready');
      child.stdin?.write('go\n');
      await ready;
      if (round < KILLS - 1) next = startLoop();
      await sleep(5 + Math.random() * 55);
      child.kill('SIGKILL');
      const [code, signal] = await exited;
      expect({ round, code, signal }).toEqual({ round, code: null, signal: 'SIGKILL' });

      // Whole JSON, a valid store, and "main" exactly one of the two sets (never a mix).
      const data = storeOnDisk(store.file);
      expect(possible).toContainEqual(data.profiles.main?.credentials);
      expect(store.read()).toEqual(data);

      // The lock is linked into place with its owner already in it, so a kill never leaves it empty.
      const lock = `${store.file}.lock`;
      if (existsSync(lock)) expect(JSON.parse(readFileSync(lock, 'utf8'))).toMatchObject({ pid: expect.any(Number) });

      // A new updater succeeds, taking over whatever lock the killed process left.
      const started = Date.now();
      const saved = await store.update((d) => {
        d.profiles[`after-${round}`] = { credentials: credentialsFor(`after-key-${round}`, String(round)) };
      });
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(possible).toContainEqual(saved.profiles.main?.credentials);
      expect(storeOnDisk(store.file).profiles[`after-${round}`]?.credentials).toMatchObject({
        apiKey: `after-key-${round}`,
      });
      expect(existsSync(`${store.file}.lock`)).toBe(false);
    }

    // Nothing saved by the updaters in between was lost by a later, killed loop.
    const final = store.read();
    for (let round = 0; round < KILLS; round++) expect(final.profiles[`after-${round}`]).toBeDefined();
  }, 30_000);
});
