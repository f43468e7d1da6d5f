// The test harness itself: requires() and the needs reporter (run on a fixture suite with
// a PATH that decides which tools exist), the probes, the environment every kash run
// gets, and the secret-hygiene check of terminal sessions.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collect, isolation, kashEnvironment, runKash, useE2e } from '../support/e2e.js';
import { accounts } from '../support/emulator.js';
import { NEEDS, type Need, underCi } from '../support/needs.js';
import { summaryLine, type Tally } from '../support/needs-reporter.js';
import { start } from '../support/pty.js';
import { requires } from '../support/requires.js';
import { SecretLeakError } from '../support/run-kash.js';

const ROOT = resolve(import.meta.dirname, '../..');
const FIXTURE = resolve(ROOT, 'test/support/fixtures/needs/vitest.config.ts');
const VITEST = resolve(ROOT, 'node_modules/vitest/vitest.mjs');

const e2e = useE2e({ emulator: false });

/** A folder for PATH holding `bash` (the real one), and `zsh` and `fish` as asked: absent, broken, or working. */
function fakeBin(tools: { zsh: 'absent' | 'broken' | 'working'; fish: 'absent' | 'working' }): string {
  const bin = e2e.tempDir('bin-');
  const bash = ['/usr/bin/bash', '/bin/bash'].find(existsSync);
  if (bash === undefined) throw new Error('no bash to link into the fake PATH');
  symlinkSync(bash, join(bin, 'bash'));
  const script = (name: string, body: string) =>
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  if (tools.zsh === 'broken') script('zsh', 'echo "zsh: cannot start" >&2; exit 1');
  if (tools.zsh === 'working') script('zsh', 'exit 0');
  if (tools.fish === 'working') script('fish', 'exit 0');
  return bin;
}

/** vitest on the fixture suite, with only `bin` on the PATH; returns its status and output (no colour). */
async function fixture(bin: string, env: Record<string, string> = {}) {
  const cache = e2e.tempDir('cache-');
  mkdirSync(join(cache, 'home'));
  const child = spawn(process.execPath, [VITEST, 'run', '--config', FIXTURE], {
    cwd: ROOT,
    env: { PATH: bin, HOME: join(cache, 'home'), NO_COLOR: '1', KASH_FIXTURE_CACHE: cache, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.end();
  const run = await collect(child, 60_000);
  const output = `${run.stdout}\n${run.stderr}`;
  const lines = run.stdout.split('\n').filter((line) => line.trim() !== '');
  return { code: run.code, output, last: lines.at(-1) ?? '' };
}

const INSTALL = process.getuid?.() === 0 ? 'apt-get install' : 'sudo apt-get install';

describe.concurrent('requires() and the needs reporter, on a fixture suite', { timeout: 60_000 }, () => {
  it('a missing tool (absent, or there but failing) skips its tests, named with it, and the run ends with one line and the install command', async () => {
    const { code, output, last } = await fixture(fakeBin({ zsh: 'broken', fish: 'absent' }));
    expect(code, output).toBe(0);
    expect(output).toMatch(/↓ .*runs zsh \[needs zsh\]/);
    expect(output).toMatch(/↓ .*fish things \[needs fish\] > first/);
    expect(output).toMatch(/↓ .*fish things \[needs fish\] > second/);
    // What is there still runs, named as it was written.
    expect(output).toMatch(/✓ .*runs bash one(?! \[)/);
    expect(output).toMatch(/✓ .*needing nothing > runs anywhere/);
    expect(output).toMatch(/Tests {2}2 passed \| 3 skipped \(5\)/);
    expect(last).toBe(`Skipped 3 tests for want of: fish (2), zsh (1); to run them: ${INSTALL} fish zsh`);
  });

  it('under CI the same absence fails the tests, saying what is missing and how to install it', async () => {
    {
      const { code, output, last } = await fixture(fakeBin({ zsh: 'broken', fish: 'absent' }), { CI: 'true' });
      expect(code, output).toBe(1);
      expect(output).toMatch(/FAIL .*runs zsh \[needs zsh\]/);
      expect(output).toContain(
        'needs zsh (zsh -f -c true: exit 1 (zsh: cannot start); install it: apt-get install zsh)',
      );
      expect(output).toContain(
        'needs fish (fish --no-config -c true: spawn fish ENOENT; install it: apt-get install fish)',
      );
      expect(output).toMatch(/✓ .*runs bash one/);
      expect(output).toMatch(/Tests {2}2 failed \| 2 passed \(4\)/);
      expect(last).toBe(`2 tests failed for want of: fish (1), zsh (1); to run them: ${INSTALL} fish zsh`);
    }
  });

  it('CI means CI set to anything but empty, 0 or false', () => {
    for (const value of ['true', '1', 'yes', 'TRUE', 'github-actions'])
      expect(underCi({ CI: value }), JSON.stringify(value)).toBe(true);
    for (const value of [undefined, '', '0', 'false', 'False'])
      expect(underCi({ CI: value }), JSON.stringify(value)).toBe(false);
  });

  it('with every need met, nothing is skipped or failed under CI, and no line is added', async () => {
    const { code, output, last } = await fixture(fakeBin({ zsh: 'working', fish: 'working' }), { CI: 'true' });
    expect(code, output).toBe(0);
    expect(output).toMatch(/Tests {2}5 passed \(5\)/);
    expect(output).not.toMatch(/for want of/);
    expect(output).not.toMatch(/\[needs /);
    expect(last).toMatch(/Duration/);
  });
});

describe('the summary line', () => {
  const tally = (entries: Array<[string, number, Partial<Need> & { why?: string }]>, tests: number): Tally => ({
    tests,
    byNeed: new Map(
      entries.map(([need, count, m]) => [
        need,
        { missing: { need, why: m.why ?? `${need}: failed`, apt: m.apt, grant: m.grant }, tests: count },
      ]),
    ),
  });

  it('names a capability that the machine refuses with what would grant it, and installs only packages', () => {
    const line = summaryLine(
      tally(
        [
          ['tinyproxy', 9, { apt: 'tinyproxy-bin' }],
          ['mount', 3, { grant: 'root with CAP_SYS_ADMIN' }],
        ],
        11,
      ),
      'skipped',
      false,
    );
    expect(line).toBe(
      'Skipped 11 tests for want of: mount (3; not permitted here: needs root with CAP_SYS_ADMIN), tinyproxy (9); ' +
        'to run them: sudo apt-get install tinyproxy-bin',
    );
    expect(summaryLine(tally([['mount', 1, { grant: 'root' }]], 1), 'skipped', true)).toBe(
      'Skipped 1 test for want of: mount (1; not permitted here: needs root)',
    );
    expect(summaryLine(tally([], 0), 'skipped', true)).toBeUndefined();
  });
});

describe('the probes', () => {
  /** Runs a need's probe with PATH set to `path` (the probes find their programs on the PATH). */
  async function probedWith(need: Need, path: string) {
    const saved = process.env.PATH;
    process.env.PATH = path;
    try {
      return await need.probe();
    } finally {
      process.env.PATH = saved;
    }
  }

  it('a tool that is absent or fails is missing, with its package; one that runs is there', async () => {
    const broken = fakeBin({ zsh: 'broken', fish: 'absent' });
    expect(await probedWith(NEEDS.zsh, broken)).toEqual({
      ok: false,
      why: 'zsh -f -c true: exit 1 (zsh: cannot start)',
      apt: 'zsh',
    });
    expect(await probedWith(NEEDS.fish, broken)).toEqual({
      ok: false,
      why: 'fish --no-config -c true: spawn fish ENOENT',
      apt: 'fish',
    });
    expect(await probedWith(NEEDS.zsh, fakeBin({ zsh: 'working', fish: 'absent' }))).toEqual({ ok: true });
  });

  it('a capability whose program is absent names the package; one the machine refuses names what would grant it', async () => {
    const empty = e2e.tempDir('bin-');
    expect(await probedWith(NEEDS.mount, empty)).toMatchObject({ ok: false, apt: 'mount' });
    expect(await probedWith(NEEDS.unshare, empty)).toMatchObject({ ok: false, apt: 'util-linux' });
    expect(await probedWith(NEEDS.chattr, empty)).toMatchObject({ ok: false, apt: 'e2fsprogs' });
    const refusing = e2e.tempDir('bin-');
    for (const name of ['mount', 'unshare', 'chattr'])
      writeFileSync(join(refusing, name), '#!/bin/sh\necho "permission denied" >&2\nexit 32\n', { mode: 0o755 });
    for (const need of [NEEDS.mount, NEEDS.unshare, NEEDS.chattr]) {
      const probe = await probedWith(need, refusing);
      expect(probe, need.name).toMatchObject({ ok: false, grant: need.grant });
      expect(probe.ok || probe.why, need.name).toContain('exit 32 (permission denied)');
      expect(probe, need.name).not.toHaveProperty('apt');
    }
  });

  it('.ci/run installs the package of every need, so that CI skips nothing', () => {
    const script = readFileSync(resolve(ROOT, '.ci/run'), 'utf8');
    const listed = /^packages=\(([^)]*)\)$/m.exec(script)?.[1]?.split(/\s+/) ?? [];
    expect(listed.sort()).toEqual([...new Set(Object.values(NEEDS).map((need: Need) => need.apt))].sort());
  });
});

describe('the environment of every kash run', () => {
  it('holds nothing of the session bus, the display or outside KASH_ variables; HOME and the XDG folders are the sandbox', async () => {
    const outside = {
      DBUS_SESSION_BUS_ADDRESS: 'unix:path=/run/user/1000/bus',
      XDG_RUNTIME_DIR: '/run/user/1000',
      XDG_CACHE_HOME: '/home/someone/.cache',
      DISPLAY: ':0',
      KASH_PROFILE: 'the-developers-own',
      NODE_OPTIONS: '--inspect',
    };
    const saved = Object.fromEntries(Object.keys(outside).map((name) => [name, process.env[name]]));
    Object.assign(process.env, outside);
    try {
      const env = kashEnvironment();
      for (const name of ['DBUS_SESSION_BUS_ADDRESS', 'DISPLAY', 'KASH_PROFILE', 'NODE_OPTIONS'])
        expect(env, name).not.toHaveProperty(name);
      const sandbox = isolation();
      expect(env).toMatchObject(sandbox);
      expect(env.KASH_STORAGE).toBe('file');
      for (const name of ['HOME', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME', 'XDG_DATA_HOME', 'XDG_RUNTIME_DIR'])
        expect(existsSync(env[name]!), name).toBe(true);
      expect(env.XDG_CACHE_HOME).not.toBe(outside.XDG_CACHE_HOME);

      // What kash itself runs with: a command under `kash exec` reports it.
      const run = await runKash(
        ['exec', '--', process.execPath, '-e', 'process.stdout.write(JSON.stringify(process.env))'],
        { env: { KASH_APIKEY: 'harness-env-key-0123456789', KASH_SHOPID: '1' } },
      );
      expect(run.code, run.stderr).toBe(0);
      const seen = JSON.parse(run.stdout) as Record<string, string>;
      expect(seen).not.toHaveProperty('DBUS_SESSION_BUS_ADDRESS');
      expect(seen).not.toHaveProperty('DISPLAY');
      expect(seen).toMatchObject({ ...sandbox, KASH_STORAGE: 'file' });

      // A keyring suite keeps the session bus and chooses its own storage.
      const keyring = kashEnvironment({ realKeyring: true });
      expect(keyring).toMatchObject({
        DBUS_SESSION_BUS_ADDRESS: outside.DBUS_SESSION_BUS_ADDRESS,
        XDG_RUNTIME_DIR: outside.XDG_RUNTIME_DIR,
      });
      expect(keyring).not.toHaveProperty('KASH_STORAGE');
      expect(keyring.XDG_CACHE_HOME).toBe(sandbox.XDG_CACHE_HOME);
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});

requires('script').describe('the hygiene check of terminal sessions', () => {
  it('a session whose terminal shows a password fails at exit(), naming it without showing it', async () => {
    // A valid profile name that happens to be a password: kash names the profile in its error.
    const session = start(['--profile', accounts.demo.password, 'whoami'], { KASH_CONFIG_DIR: e2e.tempDir() });
    const exit = session.exit();
    await expect(exit).rejects.toThrow(SecretLeakError);
    const message = await exit.catch((error: Error) => error.message);
    expect(message).toContain('accounts.demo.password');
    expect(message).not.toContain(accounts.demo.password);
    expect(session.output()).toContain(accounts.demo.password);
  });
});
