// A service that misbehaves, end to end: every fault switch of the emulator against a
// login that already has saved credentials, which must survive it byte for byte. Each
// test has an emulator of its own (its fault, its requests), so they run side by side.

import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { type KashRun, runKash, useE2e } from '../support/e2e.js';
import { accounts, type Fault, startEmulator } from '../support/emulator.js';
import { passwordCredentials, writeStore } from '../support/store-fixture.js';
import { copyConfigDir, storeSnapshot } from '../support/store-snapshot.js';

const { demo, shop2 } = accounts;

vi.setConfig({ testTimeout: 30_000 });

// The file's emulator serves the template's login; each test starts one of its own.
const e2e = useE2e();
const { kash } = e2e;
/** A config folder holding a good login (shop2 under "default"), made before any fault is switched on. */
let template: string;

beforeAll(() => {
  template = e2e.freshDir();
  writeStore(template, { default: { credentials: passwordCredentials(shop2, e2e.emulator.url) } });
});

/** A copy (bytes and modes) of the logged-in template folder, for one test to damage. */
async function loggedIn(): Promise<string> {
  const dir = e2e.freshDir();
  copyConfigDir(template, dir);
  expect(storeSnapshot(dir)).toEqual(storeSnapshot(template));
  return dir;
}

/**
 * The demo login against an emulator of the test's own with `fault` on (and `slowMs`, for
 * `slow`); returns the run, how many requests the emulator saw, and its host (and port).
 */
async function loginDuring(
  fault: Fault,
  dir: string,
  args: string[] = [],
  env: Record<string, string> = {},
  slowMs?: number,
) {
  const emulator = await startEmulator();
  try {
    emulator.fault = fault;
    if (slowMs !== undefined) emulator.slowMs = slowMs;
    const run = await kash(dir, ['login', '--login', demo.login, ...args], {
      env: { KASH_BASE_URL: emulator.url, KASH_PASSWORD: demo.password, ...env },
    });
    return { run, requests: emulator.requests.length, host: new URL(emulator.url).host };
  } finally {
    await emulator.close();
  }
}

function expectOneErrorLine(run: KashRun): string {
  const lines = run.stderr.split('\n');
  const errors = lines.filter((line) => line.startsWith('error:'));
  expect(errors, run.stderr).toHaveLength(1);
  // No stack trace without --verbose.
  expect(run.stderr).not.toMatch(/^\s+at\s/m);
  expect(run.stderr).not.toMatch(/node:internal|\.js:\d+:\d+/);
  return errors[0]!;
}

function expectNoSecret(run: KashRun): void {
  for (const secret of [demo.password, demo.apiKey, shop2.password, shop2.apiKey, 'demo-api-key']) {
    expect(run.stdout + run.stderr).not.toContain(secret);
  }
}

const FAILING: Array<{ fault: Fault; args?: string[]; says: RegExp }> = [
  { fault: 'http500', says: /500/ },
  { fault: 'html', says: /HTML|not.*JSON|understand/i },
  { fault: 'slow', args: ['--timeout', '1'], says: /did not answer|timed out|time/i },
  { fault: 'redirect', says: /redirect.*https:\/\/elsewhere\.example\/login/i },
  { fault: 'huge', says: /1 MiB|too large|over/i },
  { fault: 'noKey', says: /API key|no usable/i },
  { fault: 'keyNewline', says: /API key|control|usable/i },
  { fault: 'drop', says: /closed|connection|reset/i },
  { fault: 'stallBody', args: ['--timeout', '1'], says: /did not answer|timed out|time/i },
];

describe.concurrent('a login while the service misbehaves', () => {
  it.each(FAILING)(
    '$fault: exit 4, one error line naming the service, one request, the store unchanged',
    async ({ fault, args, says }) => {
      const dir = await loggedIn();
      const before = storeSnapshot(dir);
      const { run, requests, host } = await loginDuring(fault, dir, args);

      expect(run.code, run.stderr).toBe(4);
      expect(run.stdout).toBe('');
      const line = expectOneErrorLine(run);
      expect(line).toMatch(says);
      // Which service failed: the host (and port) of the base URL, or its full URL.
      expect(line).toContain(host);
      expectNoSecret(run);
      // No automatic retry of a request that may have reached the server.
      expect(requests).toBe(1);
      expect(storeSnapshot(dir)).toEqual(before);
    },
  );

  it('slow with KASH_TIMEOUT=1 says the service did not answer in time, within about that time', async () => {
    const dir = await loggedIn();
    const before = storeSnapshot(dir);
    const started = Date.now();
    // Far longer than the timeout, so that only the timeout can end the wait early.
    const { run, requests } = await loginDuring('slow', dir, [], { KASH_TIMEOUT: '1' }, 15_000);
    const elapsed = Date.now() - started;
    expect(run.code, run.stderr).toBe(4);
    expect(expectOneErrorLine(run)).toMatch(/did not answer|timed out/i);
    expect(elapsed).toBeLessThan(10_000);
    expect(requests).toBe(1);
    expect(storeSnapshot(dir)).toEqual(before);
  });

  it('a slow answer within --timeout succeeds', async () => {
    const dir = await loggedIn();
    const { run, requests } = await loginDuring('slow', dir, ['--timeout', '5'], {}, 300);
    expect(run.code, run.stderr).toBe(0);
    expect(requests).toBe(1);
  });

  it('redirect names the target and is not followed: exactly one request', async () => {
    const dir = await loggedIn();
    const { run, requests } = await loginDuring('redirect', dir);
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('https://elsewhere.example/login');
    expect(requests).toBe(1);
  });

  it('exact1MiB: an answer of exactly 1 MiB is accepted (exit 0) and saved', async () => {
    const dir = await loggedIn();
    const { run, requests } = await loginDuring('exact1MiB', dir);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('');
    expect(requests).toBe(1);
    const view = await kash(dir, ['whoami', '--json']);
    expect(JSON.parse(view.stdout)).toMatchObject({ shopId: '42', login: demo.login });
  });

  it('an unreachable service (a closed port on 127.0.0.1) is exit 4 naming it, the store unchanged', async () => {
    const dir = await loggedIn();
    const before = storeSnapshot(dir);
    const port = await closedPort();
    const run = await runKash(['--config-dir', dir, 'login', '--login', demo.login], {
      env: { KASH_BASE_URL: `http://127.0.0.1:${port}`, KASH_PASSWORD: demo.password },
    });
    expect(run.code, run.stderr).toBe(4);
    expect(run.stdout).toBe('');
    expect(expectOneErrorLine(run)).toContain(`127.0.0.1:${port}`);
    expectNoSecret(run);
    expect(storeSnapshot(dir)).toEqual(before);
  });

  it('a --no-save login during a fault prints nothing on stdout', async () => {
    const dir = await loggedIn();
    const before = storeSnapshot(dir);
    const { run } = await loginDuring('keyNewline', dir, ['--no-save']);
    expect(run.code).toBe(4);
    expect(run.stdout).toBe('');
    expect(run.stdout + run.stderr).not.toContain('EVIL');
    expect(storeSnapshot(dir)).toEqual(before);
  });
});

/** A port on 127.0.0.1 that nothing listens on (it was just free). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
