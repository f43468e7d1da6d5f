// V8's compile cache (Node 22 and later), which bin/kash.js turns on before loading the
// bundle: kept in kash's own cache folder, and only in one that nobody else could have
// planted code in; in any doubt kash runs without it, and says nothing. Node 20 has no
// compile cache: there kash makes no folder for one.
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runKash, tempDir, useE2e } from '../support/e2e.js';
import { requires } from '../support/requires.js';

useE2e({ emulator: false });

const cached = Number.parseInt(process.versions.node, 10) >= 22;

/** `kash --version` with this cache home: it must print the version and nothing else, whatever the folder. */
async function run(env: Record<string, string | undefined>): Promise<void> {
  const { code, stdout, stderr } = await runKash(['--version'], { env });
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  expect(stdout).toMatch(/^\d+\.\d+\.\d+/);
}

/** The cache files under `folder` (none when it does not exist): Node keeps them in one subfolder per Node version. */
const cacheFiles = (folder: string) =>
  existsSync(folder)
    ? readdirSync(folder, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile())
    : [];

describe('the compile cache', () => {
  it(cached ? 'lives in $XDG_CACHE_HOME/kash, made 0700' : 'is not made on Node 20, which has none', async () => {
    const home = tempDir('cache-');
    await run({ XDG_CACHE_HOME: home });
    const folder = join(home, 'kash');
    expect(existsSync(folder)).toBe(cached);
    if (cached) expect(lstatSync(folder).mode & 0o777).toBe(0o700);
    expect(cacheFiles(folder).length > 0).toBe(cached);
  });

  it('falls back to ~/.cache/kash when XDG_CACHE_HOME is relative, as the XDG spec says', async () => {
    const home = tempDir('home-');
    await run({ HOME: home, XDG_CACHE_HOME: 'relative/cache' });
    expect(cacheFiles(join(home, '.cache', 'kash')).length > 0).toBe(cached);
  });

  it('is not used in a folder that group or others can write to, nor is that folder changed', async () => {
    const home = tempDir('cache-');
    mkdirSync(join(home, 'kash'));
    chmodSync(join(home, 'kash'), 0o777);
    await run({ XDG_CACHE_HOME: home });
    expect(cacheFiles(join(home, 'kash'))).toEqual([]);
    expect(lstatSync(join(home, 'kash')).mode & 0o777).toBe(0o777);
  });

  it('is not used below a parent that others can write to without the sticky bit: they could swap the folder', async () => {
    const home = tempDir('cache-');
    chmodSync(home, 0o777);
    await run({ XDG_CACHE_HOME: home });
    expect(cacheFiles(join(home, 'kash'))).toEqual([]);
  });

  it(`is used below a sticky shared parent, as /tmp is${cached ? '' : ' (where Node has one)'}`, async () => {
    const home = tempDir('cache-');
    chmodSync(home, 0o1777);
    await run({ XDG_CACHE_HOME: home });
    expect(cacheFiles(join(home, 'kash')).length > 0).toBe(cached);
  });

  it('is not used through a symbolic link', async () => {
    const home = tempDir('cache-');
    const elsewhere = tempDir('elsewhere-');
    symlinkSync(elsewhere, join(home, 'kash'));
    await run({ XDG_CACHE_HOME: home });
    expect(cacheFiles(elsewhere)).toEqual([]);
  });

  requires('chown').it('is not used in a folder that belongs to another user', async () => {
    const home = tempDir('cache-');
    mkdirSync(join(home, 'kash'), { mode: 0o700 });
    chownSync(join(home, 'kash'), 65534, 65534);
    await run({ XDG_CACHE_HOME: home });
    expect(cacheFiles(join(home, 'kash'))).toEqual([]);
  });

  it('costs nothing and says nothing when the folder cannot be made', async () => {
    await run({ XDG_CACHE_HOME: '/dev/null/cache' });
  });
});
