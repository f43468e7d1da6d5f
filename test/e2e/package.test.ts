// What users install: the packed tarball holds the bundle and nothing it would need to
// fetch, and runs in an empty folder.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { useE2e } from '../support/e2e.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const e2e = useE2e({ emulator: false });
let work: string;

interface Packed {
  filename: string;
  size: number;
  files: Array<{ path: string }>;
}

let packed: Packed;

beforeAll(async () => {
  work = e2e.tempDir('package-');
  // --ignore-scripts: packing must not rebuild dist/ under the other tests' feet.
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], {
    cwd: root,
  });
  packed = (JSON.parse(stdout) as Packed[])[0]!;
}, 60_000);

describe('the published package', () => {
  it('holds the bundle, the README and the licence, and nothing else', () => {
    const paths = packed.files.map((file) => file.path).sort();
    expect(paths).toEqual(
      expect.arrayContaining([
        'LICENSE',
        'README.md',
        'bin/kash.js',
        'bin/package.json',
        'dist/kash.cjs',
        'package.json',
      ]),
    );
    expect(paths.filter((path) => !/^(LICENSE|README\.md|package\.json|bin\/|dist\/)/.test(path))).toEqual([]);
    expect(paths.filter((path) => /\.(ts|map)$/.test(path))).toEqual([]);
  });

  it('packs to under 300 KB', () => {
    expect(packed.size).toBeLessThan(300 * 1024);
  });

  it('installs into an empty folder with its one runtime dependency (the keyring addon), and runs', async () => {
    const project = join(work, 'empty');
    const config = join(work, 'config');
    await run('mkdir', ['-p', project]);
    writeFileSync(join(project, 'package.json'), '{"name":"empty","version":"1.0.0","private":true}\n');
    await run(
      'npm',
      ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', join(work, packed.filename)],
      { cwd: project },
    );
    expect(readdirSync(join(project, 'node_modules')).filter((name) => !name.startsWith('.'))).toEqual([
      '@napi-rs',
      'kash',
    ]);
    // The addon and its prebuilt binary for this platform, nothing else.
    expect(readdirSync(join(project, 'node_modules', '@napi-rs')).sort()).toEqual([
      'keyring',
      `keyring-${process.platform}-${process.arch}-gnu`,
    ]);
    const manifest = JSON.parse(readFileSync(join(project, 'node_modules', 'kash', 'package.json'), 'utf8'));
    expect(Object.keys(manifest.dependencies ?? {})).toEqual(['@napi-rs/keyring']);
    const version = await run(join(project, 'node_modules/.bin/kash'), ['--version']);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const whoami = await run(join(project, 'node_modules/.bin/kash'), ['whoami', '--json'], {
      env: e2e.env({ KASH_CONFIG_DIR: config, KASH_APIKEY: 'packaged-key-0123456789', KASH_SHOPID: '9' }),
    });
    expect(JSON.parse(whoami.stdout)).toMatchObject({ source: 'env', shopId: '9' });
  }, 60_000);
});
