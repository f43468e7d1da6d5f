// The global options and their variables, end to end: base URL safety, profile and
// timeout parsing, --verbose, --help/--version, usage errors and colour.
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { type KashRun, runKash, useE2e } from '../support/e2e.js';
import { accounts, startEmulator } from '../support/emulator.js';
import { listDir } from '../support/store-snapshot.js';

const { demo, shop2 } = accounts;
const PASSWORD_PATH = '/workers/getAuthTokenWithPassword.php';
const VERSION = (
  JSON.parse(readFileSync(resolve(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string }
).version;
const ESC = '\u001b[';

vi.setConfig({ testTimeout: 30_000 });

const e2e = useE2e();
const { freshDir, kash } = e2e;

function loginDemo(dir: string, args: string[] = [], env: Record<string, string | undefined> = {}): Promise<KashRun> {
  return kash(dir, ['login', '--login', demo.login, ...args], { env: { KASH_PASSWORD: demo.password, ...env } });
}

function expectUsage(run: KashRun, label: string): void {
  expect(run.code, `${label}: ${run.stderr}`).toBe(2);
  expect(run.stdout, label).toBe('');
  expect(run.stderr, label).toMatch(/^error: /m);
  expect(run.stderr, label).not.toMatch(/^\s+at\s/m);
}

function storedBaseUrl(dir: string, profile = 'default'): unknown {
  const store = JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8')) as {
    profiles: Record<string, { credentials?: { baseUrl?: unknown } }>;
  };
  return store.profiles[profile]?.credentials?.baseUrl;
}

describe('the base URL', () => {
  it('refuses http:// to a host that is not loopback (exit 2) without sending anything, by flag or variable', async () => {
    // A second emulator listening on every interface: the non-loopback http:// URLs below
    // really reach it, so a request that kash wrongly sent would show up in its log.
    const trap = await startEmulator({ host: '0.0.0.0' });
    try {
      const port = new URL(trap.url).port;
      const lanAddresses = Object.values(networkInterfaces())
        .flat()
        .filter((a) => a !== undefined && a.family === 'IPv4' && !a.internal)
        .map((a) => a!.address);
      const urls = [
        'http://example.com',
        `http://0.0.0.0:${port}`,
        ...lanAddresses.map((address) => `http://${address}:${port}`),
      ];
      // Were kash to honour a proxy for http:// and send anyway, the proxy is the trap too.
      const proxyEnv = { HTTP_PROXY: `http://127.0.0.1:${port}`, http_proxy: `http://127.0.0.1:${port}` };
      const dir = freshDir();
      const runs = await Promise.all(
        urls.flatMap((url) => [
          loginDemo(dir, ['--base-url', url], proxyEnv).then((run) => ({ run, label: `--base-url ${url}` })),
          runKash(['--config-dir', dir, 'login', '--login', demo.login], {
            env: { KASH_BASE_URL: url, KASH_PASSWORD: demo.password, ...proxyEnv },
          }).then((run) => ({ run, label: `KASH_BASE_URL=${url}` })),
        ]),
      );
      for (const { run, label } of runs) {
        expectUsage(run, label);
        expect(run.stderr, label).toMatch(/https/);
      }
      expect(trap.requests).toEqual([]);
      expect(listDir(dir)).toEqual([]);
    } finally {
      await trap.close();
    }
  });

  it('accepts http:// for localhost', async () => {
    const dir = freshDir();
    const url = e2e.emulator.url.replace('127.0.0.1', 'localhost');
    const run = await loginDemo(dir, ['--base-url', url]);
    // localhost may resolve to ::1 first, where the emulator does not listen: what matters is that it is not a usage error.
    expect(run.code, run.stderr).not.toBe(2);
  });

  it('--base-url beats KASH_BASE_URL', async () => {
    const dir = freshDir();
    const from = e2e.emulator.requests.length;
    const good = await loginDemo(dir, ['--base-url', e2e.emulator.url], { KASH_BASE_URL: 'http://127.0.0.1:9' });
    expect(good.code, good.stderr).toBe(0);
    expect(storedBaseUrl(dir)).toBe(e2e.emulator.url);
    expect(e2e.emulator.requests.length - from).toBe(1);

    // And the other way round: a bad flag is not rescued by a good variable.
    const other = freshDir();
    const bad = await loginDemo(other, ['--base-url', 'http://example.com'], { KASH_BASE_URL: e2e.emulator.url });
    expectUsage(bad, 'bad flag');
    expect(e2e.emulator.requests.length - from).toBe(1);
  });
});

describe('profiles', () => {
  it('--profile works before or after the subcommand and beats KASH_PROFILE', async () => {
    const dir = freshDir();
    const env = { KASH_PASSWORD: demo.password, KASH_PROFILE: 'from-env' };
    const before = await kash(dir, ['--profile', 'before', 'login', '--login', demo.login], { env });
    expect(before.code, before.stderr).toBe(0);
    const after = await kash(dir, ['login', '--login', shop2.login, '--password-stdin', '--profile', 'after'], {
      env: { KASH_PROFILE: 'from-env' },
      input: `${shop2.password}\n`,
    });
    expect(after.code, after.stderr).toBe(0);
    const byEnv = await kash(dir, ['login', '--login', demo.login], { env });
    expect(byEnv.code, byEnv.stderr).toBe(0);

    const [all, whoBefore, whoAfter] = await Promise.all([
      kash(dir, ['whoami', '--all', '--json']),
      kash(dir, ['--profile', 'before', 'whoami', '--json'], { env: { KASH_PROFILE: 'after' } }),
      kash(dir, ['whoami', '--json', '--profile', 'after'], { env: { KASH_PROFILE: 'before' } }),
    ]);
    const profiles = (JSON.parse(all.stdout) as Array<{ profile: string }>).map((v) => v.profile).sort();
    expect(profiles).toEqual(['after', 'before', 'from-env']);
    expect(JSON.parse(whoBefore.stdout)).toMatchObject({ profile: 'before', shopId: '42' });
    expect(JSON.parse(whoAfter.stdout)).toMatchObject({ profile: 'after', shopId: '1337' });
  });

  it('refuses invalid profile names (exit 2) before anything is sent or written', async () => {
    const root = e2e.tempDir();
    const dir = join(root, 'kash');
    const from = e2e.emulator.requests.length;
    const bad = ['../x', 'a/b', 'x'.repeat(65), '', 'a b', '..\\x'];
    const runs = await Promise.all([
      ...bad.map((name) =>
        loginDemo(dir, ['--profile', name]).then((run) => ({ run, label: `--profile ${JSON.stringify(name)}` })),
      ),
      ...['../x', 'a/b', 'x'.repeat(65)].map((name) =>
        loginDemo(dir, [], { KASH_PROFILE: name }).then((run) => ({
          run,
          label: `KASH_PROFILE=${JSON.stringify(name)}`,
        })),
      ),
      kash(dir, ['whoami', '--profile', '../x']).then((run) => ({ run, label: 'whoami --profile ../x' })),
    ]);
    for (const { run, label } of runs) {
      expectUsage(run, label);
      expect(run.stderr, label).toMatch(/profile/i);
    }
    expect(e2e.emulator.requests.length).toBe(from);
    expect(listDir(root)).toEqual([]);
  });

  it('accepts a 64-character name of letters, digits, ".", "_" and "-"', async () => {
    const dir = freshDir();
    const name = `A.b_c-9${'x'.repeat(57)}`;
    expect(name).toHaveLength(64);
    const run = await loginDemo(dir, ['--profile', name]);
    expect(run.code, run.stderr).toBe(0);
    expect(storedBaseUrl(dir, name)).toBe(e2e.emulator.url);
  });
});

describe('timeouts', () => {
  it('refuses a KASH_TIMEOUT or --timeout of 0, -1 or abc (exit 2) without sending anything', async () => {
    const dir = freshDir();
    const from = e2e.emulator.requests.length;
    const values = ['0', '-1', 'abc'];
    const runs = await Promise.all([
      ...values.map((value) =>
        loginDemo(dir, [], { KASH_TIMEOUT: value }).then((run) => ({ run, label: `KASH_TIMEOUT=${value}` })),
      ),
      ...values.map((value) =>
        loginDemo(dir, [`--timeout=${value}`]).then((run) => ({ run, label: `--timeout=${value}` })),
      ),
    ]);
    for (const { run, label } of runs) {
      expectUsage(run, label);
      expect(run.stderr, label).toMatch(/timeout/i);
    }
    expect(e2e.emulator.requests.length).toBe(from);
  });

  it('accepts KASH_TIMEOUT=5', async () => {
    const run = await loginDemo(freshDir(), [], { KASH_TIMEOUT: '5' });
    expect(run.code, run.stderr).toBe(0);
  });
});

describe('--verbose', () => {
  const secrets = [demo.password, demo.apiKey, shop2.password, shop2.apiKey, encodeURIComponent(shop2.password)];
  const expectNoSecretOnStderr = (run: KashRun, label: string) => {
    for (const secret of secrets) expect(run.stderr, label).not.toContain(secret);
  };

  it('shows method, URL, status and time on stderr, never the password or the API key (flag and KASH_DEBUG=1)', async () => {
    const url = `${e2e.emulator.url}${PASSWORD_PATH}`;
    const [flag, variable, noSave, shop2Run] = await Promise.all([
      loginDemo(freshDir(), ['--verbose']),
      loginDemo(freshDir(), [], { KASH_DEBUG: '1' }),
      loginDemo(freshDir(), ['--verbose', '--no-save']),
      kash(freshDir(), ['--verbose', 'login', '--login', shop2.login, '--password-stdin'], {
        input: `${shop2.password}\n`,
      }),
    ]);
    for (const [run, label] of [
      [flag, '--verbose'],
      [variable, 'KASH_DEBUG=1'],
      [noSave, '--verbose --no-save'],
      [shop2Run, 'shop2 --verbose'],
    ] as const) {
      expect(run.code, `${label}: ${run.stderr}`).toBe(0);
      expect(run.stderr, label).toContain('POST');
      expect(run.stderr, label).toContain(url);
      expect(run.stderr, label).toMatch(/\b200\b/);
      expect(run.stderr, label).toMatch(/\d+(\.\d+)?\s?m?s\b/);
      expectNoSecretOnStderr(run, label);
    }
    // The key is data: on stdout for --no-save, and nowhere else.
    expect(noSave.stdout).toContain(demo.apiKey);
  });

  it('on a failing login too: the status shows, secrets do not', async () => {
    const [wrong, unreachable] = await Promise.all([
      kash(freshDir(), ['--verbose', 'login', '--login', shop2.login, '--password-stdin'], {
        input: `${demo.password}\n`,
      }),
      loginDemo(freshDir(), ['--verbose', '--base-url', 'http://127.0.0.1:9']),
    ]);
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toContain('POST');
    expect(wrong.stderr).toMatch(/\b200\b/);
    expectNoSecretOnStderr(wrong, 'wrong password');
    expect(unreachable.code).toBe(4);
    expectNoSecretOnStderr(unreachable, 'unreachable');
    // --verbose is where the stack trace of a failure goes.
    expect(unreachable.stderr).toMatch(/^\s+at\s/m);
  });
});

describe('help, version and usage errors', () => {
  it('--help and --version print on stdout and exit 0', async () => {
    const dir = freshDir();
    const [help, loginHelp, version] = await Promise.all([
      kash(dir, ['--help']),
      kash(dir, ['login', '--help']),
      kash(dir, ['--version']),
    ]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: kash/);
    for (const command of ['login', 'whoami', 'env', 'logout']) expect(help.stdout).toContain(command);
    expect(loginHelp.code).toBe(0);
    expect(loginHelp.stdout).toContain('--password-stdin');
    expect(loginHelp.stdout).not.toMatch(/--password\s/);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe(VERSION);
    expect(help.stderr + loginHelp.stderr + version.stderr).toBe('');
  });

  it('an unknown command or option is exit 2 with an error: line', async () => {
    const dir = freshDir();
    const runs = await Promise.all([
      kash(dir, ['frobnicate']),
      kash(dir, ['--frobnicate', 'whoami']),
      kash(dir, ['whoami', '--frobnicate']),
      kash(dir, ['login', '--password', 'x']),
    ]);
    for (const [i, run] of runs.entries()) expectUsage(run, `case ${i}`);
  });

  it('errors are error: lines with no stack trace without --verbose', async () => {
    const dir = freshDir();
    const [notLoggedIn, unreachable] = await Promise.all([
      kash(dir, ['whoami']),
      loginDemo(dir, ['--base-url', 'http://127.0.0.1:9']),
    ]);
    expect(notLoggedIn.code).toBe(5);
    expect(unreachable.code).toBe(4);
    for (const run of [notLoggedIn, unreachable]) {
      expect(run.stderr.split('\n')[0]).toMatch(/^error: \S/);
      expect(run.stderr).not.toMatch(/^\s+at\s/m);
      expect(run.stderr).not.toMatch(/\.(js|ts):\d+:\d+/);
    }
  });
});

describe('colour', () => {
  const err = (dir: string, before: string[], after: string[], env: Record<string, string>) =>
    kash(dir, [...before, 'whoami', ...after], { env });
  const ok = (args: string[], env: Record<string, string>) => loginDemo(freshDir(), args, env);
  const expectPlain = (run: KashRun, label: string) => {
    expect(run.stderr.length, label).toBeGreaterThan(0);
    expect(run.stderr, label).not.toContain('\u001b');
    expect(run.stdout, label).not.toContain('\u001b');
  };

  it('FORCE_COLOR=1 colours stderr (errors and success lines alike)', async () => {
    const [forcedErr, forcedOk] = await Promise.all([
      err(freshDir(), [], [], { FORCE_COLOR: '1' }),
      ok([], { FORCE_COLOR: '1' }),
    ]);
    expect(forcedErr.code).toBe(5);
    expect(forcedOk.code).toBe(0);
    expect(forcedErr.stderr).toContain(ESC);
    expect(forcedOk.stderr).toContain(ESC);
  });

  it('NO_COLOR=1 gives no escape codes', async () => {
    const [noColourErr, noColourOk] = await Promise.all([
      err(freshDir(), [], [], { NO_COLOR: '1' }),
      ok([], { NO_COLOR: '1' }),
    ]);
    expect(noColourErr.code).toBe(5);
    expect(noColourOk.code).toBe(0);
    expectPlain(noColourErr, 'whoami, NO_COLOR=1 (an error)');
    expectPlain(noColourOk, 'login, NO_COLOR=1');
  });

  it('--no-color beats FORCE_COLOR=1 on success lines', async () => {
    const run = await ok(['--no-color'], { FORCE_COLOR: '1' });
    expect(run.code, run.stderr).toBe(0);
    expectPlain(run, 'login --no-color, FORCE_COLOR=1');
  });

  it('--no-color beats FORCE_COLOR=1 on error lines, before or after the subcommand', async () => {
    const dir = freshDir();
    const [after, before] = await Promise.all([
      err(dir, [], ['--no-color'], { FORCE_COLOR: '1' }),
      err(dir, ['--no-color'], [], { FORCE_COLOR: '1' }),
    ]);
    expect(after.code).toBe(5);
    expect(before.code).toBe(5);
    expectPlain(after, 'whoami --no-color, FORCE_COLOR=1 (an error)');
    expectPlain(before, '--no-color whoami, FORCE_COLOR=1 (an error)');
  });
});
