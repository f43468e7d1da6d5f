// `npm run test:node`: the end-to-end suite under each supported Node major (or those
// KASH_NODE_MAJORS names), each binary from the npm registry (node-binaries.mjs).
import { execFile, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { majorsFrom, nodeOf, unsupportedPlatform } from './node-binaries.mjs';

const run = promisify(execFile);
const MAJORS = majorsFrom(process.env.KASH_NODE_MAJORS);
const root = resolve(import.meta.dirname, '../..');

const unsupported = unsupportedPlatform('test:node');
if (unsupported) {
  console.error(unsupported);
  process.exit(2);
}

function suite(binary) {
  return new Promise((done) => {
    const child = spawn(binary, [join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--project', 'e2e'], {
      cwd: root,
      stdio: 'inherit',
      // Tests that start `node` by name get the same version.
      env: { ...process.env, PATH: `${join(binary, '..')}:${process.env.PATH}` },
    });
    child.on('exit', (code) => done(code ?? 1));
  });
}

await run(process.execPath, [join(root, 'esbuild.config.mjs')]);
const results = [];
for (const major of MAJORS) {
  const { version, binary } = await nodeOf(major);
  console.log(`\n=== Node ${version} ===`);
  results.push([version, await suite(binary)]);
}
console.log('\n=== test:node ===');
for (const [version, code] of results)
  console.log(`Node ${version}: ${code === 0 ? 'passed' : `FAILED (exit ${code})`}`);
process.exit(results.every(([, code]) => code === 0) ? 0 : 1);
