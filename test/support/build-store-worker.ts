// test/support/store-worker.ts is bundled with esbuild so that plain `node` runs it as a
// child process (no TypeScript loader), into a folder of its own.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';

export interface BuiltWorker {
  /** The bundled worker, to run with `node <path> …`. */
  path: string;
  remove(): void;
}

export async function buildStoreWorker(): Promise<BuiltWorker> {
  const dir = mkdtempSync(join(tmpdir(), 'kash-store-worker-'));
  const path = join(dir, 'store-worker.mjs');
  await build({
    entryPoints: [join(import.meta.dirname, 'store-worker.ts')],
    outfile: path,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    logLevel: 'warning',
    banner: {
      js: "import { createRequire as __workerRequire } from 'node:module'; const require = __workerRequire(import.meta.url);",
    },
  });
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
