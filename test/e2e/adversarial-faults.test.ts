// A hostile or broken service, end to end, beyond faults.test.ts: every fault switch of
// the emulator (each test with an emulator of its own, so they run side by side),
// answers that are compressed, cookie-laden, 1 MiB to the byte, redirected on or off
// the origin, and TLS that does or does not verify. Each failure must be exit 4 with
// one `error:` line and at most one hint line, no stack trace, no secret, and a store
// (logged in beforehand) left byte for byte as it was.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type KashRun, runKash, useE2e } from '../support/e2e.js';
import {
  accounts,
  DEFAULT_REDIRECT_LOCATION,
  type Emulator,
  type EmulatorOptions,
  type Fault,
  otpEmails,
  SAME_ORIGIN_REDIRECT_PATH,
  startEmulator,
} from '../support/emulator.js';
import { requires } from '../support/requires.js';
import { passwordCredentials, writeStore } from '../support/store-fixture.js';
import { copyConfigDir, storeSnapshot } from '../support/store-snapshot.js';
import { makeTestCa, type ServerCertificate, type TestCa } from '../support/tls.js';

const { demo, shop2 } = accounts;
const PASSWORD_PATH = '/workers/getAuthTokenWithPassword.php';

vi.setConfig({ testTimeout: 40_000, maxConcurrency: 8 });

// The file's emulator serves the template's login; each test has an emulator of its own.
const e2e = useE2e();

/** A config folder holding a good login (shop2 under "default"), copied for each test. */
let template: string;

beforeAll(() => {
  template = e2e.freshDir();
  writeStore(template, { default: { credentials: passwordCredentials(shop2, e2e.emulator.url) } });
});

interface Setup {
  fault?: Fault;
  options?: EmulatorOptions;
  tweak?: (emulator: Emulator) => void;
}

/** An emulator of the test's own, closed when `use` ends. */
async function withEmulator<T>(setup: Setup, use: (emulator: Emulator) => Promise<T>): Promise<T> {
  const emulator = await startEmulator(setup.options);
  emulator.fault = setup.fault ?? null;
  setup.tweak?.(emulator);
  try {
    return await use(emulator);
  } finally {
    await emulator.close();
  }
}

/** A copy (bytes and modes) of the logged-in template. */
function loggedIn(): string {
  const dir = e2e.freshDir();
  copyConfigDir(template, dir);
  return dir;
}

/** The demo login against `baseUrl`, in a logged-in copy; `env` on top. */
function loginDemo(
  dir: string,
  baseUrl: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<KashRun> {
  return runKash(['--config-dir', dir, 'login', '--login', demo.login, ...args], {
    env: { KASH_BASE_URL: baseUrl, KASH_PASSWORD: demo.password, ...env },
  });
}

const SECRETS = [demo.password, demo.apiKey, shop2.password, shop2.apiKey, 'demo-api-key', 'PHPSESSID'];

/** Exit `code`; stderr exactly one `error:` line and at most one hint line; no stack, no secret; stdout empty. */
function expectCleanFailure(run: KashRun, code: number): string {
  expect(run.code, run.stderr).toBe(code);
  expect(run.signal).toBeNull();
  expect(run.stdout).toBe('');
  const lines = run.stderr.replace(/\n$/, '').split('\n');
  expect(lines.length, run.stderr).toBeGreaterThanOrEqual(1);
  expect(lines.length, run.stderr).toBeLessThanOrEqual(2);
  expect(lines[0]).toMatch(/^error: \S/);
  if (lines[1] !== undefined) expect(lines[1]).not.toMatch(/^(error:|\s+at\s)|^\s*$/);
  expect(run.stderr).not.toMatch(/^\s+at\s|node:internal|\.c?[jt]s:\d+:\d+|TypeError|AbortError/m);
  for (const secret of SECRETS) expect(run.stdout + run.stderr).not.toContain(secret);
  return lines[0]!;
}

function savedCredentials(dir: string): { apiKey: string; shopId: string; baseUrl: string } {
  const store = JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8')) as {
    profiles: Record<string, { credentials: { apiKey: string; shopId: string; baseUrl: string } }>;
  };
  return store.profiles.default!.credentials;
}

interface FailingCase extends Setup {
  name: string;
  args?: string[];
  says: RegExp;
  /** Requests the emulator must have seen: 1 (no retry) unless said otherwise. */
  requests?: number;
  /** Upper bound on the run's wall time, for the timeouts. */
  withinMs?: number;
}

const FAILING: FailingCase[] = [
  // The existing switches.
  { name: 'http500', fault: 'http500', says: /HTTP 500/ },
  { name: 'html', fault: 'html', says: /HTML|not JSON|understand/i },
  {
    name: 'slow past --timeout 1',
    fault: 'slow',
    args: ['--timeout', '1'],
    says: /did not answer within 1 s/,
    withinMs: 8000,
  },
  { name: 'redirect off the origin', fault: 'redirect', says: /redirect to https:\/\/elsewhere\.example\/login/ },
  { name: 'huge (1 MiB + 1 KiB)', fault: 'huge', says: /over 1 MiB/ },
  { name: 'noKey', fault: 'noKey', says: /no usable API key/ },
  { name: 'keyNewline', fault: 'keyNewline', says: /no usable API key|control/ },
  { name: 'drop', fault: 'drop', says: /closed the connection/ },
  {
    name: 'stallBody (a stall mid-body) past --timeout 1',
    fault: 'stallBody',
    args: ['--timeout', '1'],
    says: /did not answer within 1 s/,
    withinMs: 8000,
  },
  // The new ones.
  {
    name: 'gzipLie: Content-Encoding gzip on a plain body',
    fault: 'gzipLie',
    says: /failed|could not|understand|closed/i,
  },
  { name: 'gzipHuge: a small gzip body inflating past 1 MiB', fault: 'gzipHuge', says: /over 1 MiB/ },
  { name: 'over1MiB: exactly 1 MiB + 1 byte, with Content-Length', fault: 'over1MiB', says: /over 1 MiB/ },
  {
    name: 'over1MiB: exactly 1 MiB + 1 byte, chunked',
    fault: 'over1MiB',
    tweak: (e) => (e.chunked = true),
    says: /over 1 MiB/,
  },
  {
    name: 'redirectSameOrigin: 302 to another path',
    fault: 'redirectSameOrigin',
    says: new RegExp(`redirect to http://127\\.0\\.0\\.1:\\d+${SAME_ORIGIN_REDIRECT_PATH}`),
  },
  {
    name: 'cutMidBody: half a body, then the connection closes',
    fault: 'cutMidBody',
    says: /closed the connection|failed/,
  },
  { name: 'emptyBody: HTTP 200 with nothing', fault: 'emptyBody', says: /empty/ },
  {
    name: 'dribble: one byte every 100 ms, past --timeout 1 (a deadline, not an idle timer)',
    fault: 'dribble',
    args: ['--timeout', '1'],
    says: /did not answer within 1 s/,
    withinMs: 8000,
  },
  // 301, 303, 307 and 308 off the origin: the test after this table, against a live second origin.
];

describe.concurrent('a login while the service misbehaves', () => {
  it.each(FAILING)('$name: exit 4, one error line, one request, the store unchanged', async (c) => {
    await withEmulator(c, async (emulator) => {
      const dir = loggedIn();
      const before = storeSnapshot(dir);
      const started = Date.now();
      const run = await loginDemo(dir, emulator.url, c.args);
      const elapsed = Date.now() - started;
      const line = expectCleanFailure(run, 4);
      expect(line).toMatch(c.says);
      // Which service failed: its host and port.
      expect(line).toContain(new URL(emulator.url).host);
      // No retry, and no redirect followed (the same-origin target would show up here).
      expect(emulator.requests.map((r) => r.path)).toEqual(Array(c.requests ?? 1).fill(PASSWORD_PATH));
      if (c.withinMs !== undefined) expect(elapsed).toBeLessThan(c.withinMs);
      expect(storeSnapshot(dir)).toEqual(before);
    });
  });

  it('a 3xx to another origin that is really listening names it and sends nothing there', async () => {
    await withEmulator({}, async (elsewhere) => {
      const statuses = [301, 302, 303, 307, 308];
      const runs = await Promise.all(
        statuses.map((status) =>
          withEmulator(
            {
              fault: 'redirect',
              tweak: (e) => {
                e.redirectStatus = status;
                e.redirectLocation = `${elsewhere.url}${PASSWORD_PATH}`;
              },
            },
            async (emulator) => {
              const dir = loggedIn();
              const before = storeSnapshot(dir);
              const run = await loginDemo(dir, emulator.url);
              return { run, status, requests: emulator.requests.length, unchanged: storeSnapshot(dir), before };
            },
          ),
        ),
      );
      for (const { run, status, requests, unchanged, before } of runs) {
        const line = expectCleanFailure(run, 4);
        expect(line, String(status)).toContain(`${elsewhere.url}${PASSWORD_PATH}`);
        expect(requests, String(status)).toBe(1);
        expect(unchanged).toEqual(before);
      }
      // Had any been followed, the other origin would have seen the login and password.
      expect(elsewhere.requests).toEqual([]);
    });
  });
});

describe.concurrent('answers that are valid however they travel', () => {
  it.each<{ name: string; fault: Fault | null; chunked?: boolean }>([
    { name: 'exactly 1 MiB, with Content-Length', fault: 'exact1MiB' },
    { name: 'exactly 1 MiB, chunked', fault: 'exact1MiB', chunked: true },
    { name: 'gzip-compressed', fault: 'gzip' },
    { name: 'deflate-compressed', fault: 'deflate' },
    { name: 'brotli-compressed', fault: 'brotli' },
    { name: 'dribbled within the timeout', fault: 'dribble' },
  ])('$name: exit 0, the demo credentials saved', async ({ fault, chunked }) => {
    await withEmulator(
      {
        fault: fault ?? undefined,
        tweak: (e) => {
          e.chunked = chunked ?? false;
          e.dribbleMs = 1;
        },
      },
      async (emulator) => {
        const dir = loggedIn();
        const run = await loginDemo(dir, emulator.url, ['--timeout', '10']);
        expect(run.code, run.stderr).toBe(0);
        expect(run.stdout).toBe('');
        // The one thing to say: the profile held shop2's credentials, and now holds the demo shop's.
        expect(run.stderr.replace(/^warning: profile "default" held shop 1337 .*$/m, '')).not.toMatch(
          /^(error|warning):/m,
        );
        expect(emulator.requests).toHaveLength(1);
        expect(savedCredentials(dir)).toMatchObject({
          apiKey: demo.apiKey,
          shopId: demo.shopId,
          baseUrl: emulator.url,
        });
      },
    );
  });

  it('setCookie: the cookie is ignored, never sent back, within one run or the next', async () => {
    await withEmulator({ fault: 'setCookie' }, async (emulator) => {
      const dir = loggedIn();
      const first = await loginDemo(dir, emulator.url);
      expect(first.code, first.stderr).toBe(0);
      expect(savedCredentials(dir)).toMatchObject({ apiKey: demo.apiKey, shopId: demo.shopId });
      // Two requests in one run: the shop list, then the code request through its link.
      const second = await runKash(['--config-dir', dir, 'otp', 'request', '--email', otpEmails.one.email], {
        env: { KASH_BASE_URL: emulator.url },
      });
      expect(second.code, second.stderr).toBe(0);
      const third = await loginDemo(dir, emulator.url);
      expect(third.code, third.stderr).toBe(0);
      expect(emulator.requests.map((r) => r.path)).toEqual([
        PASSWORD_PATH,
        '/workers/listShops.php',
        expect.stringMatching(/^\/workers\/getOTPForAccount\.php\?/),
        PASSWORD_PATH,
      ]);
      for (const request of emulator.requests) expect(request.headers.cookie, request.path).toBeUndefined();
      expect(first.stderr + second.stderr + third.stderr).not.toMatch(/PHPSESSID|kash_tracking/);
    });
  });
});

requires('openssl').describe.concurrent('TLS', () => {
  let ca: TestCa;
  /** Valid for localhost and 127.0.0.1, signed by `ca`. */
  let goodCert: ServerCertificate;
  /** Signed by `ca`, but for another name than the one kash connects to. */
  let wrongNameCert: ServerCertificate;

  beforeAll(async () => {
    ca = await makeTestCa();
    [goodCert, wrongNameCert] = await Promise.all([ca.issue(['localhost', '127.0.0.1']), ca.issue(['kash.example'])]);
  });

  afterAll(async () => {
    await ca?.cleanup();
  });

  const tlsCase = (
    name: string,
    host: 'localhost' | '127.0.0.1',
    cert: () => ServerCertificate,
    trust: boolean,
    code: number,
  ) => ({ name, host, cert, trust, code });

  it.each([
    tlsCase('untrusted CA, https://127.0.0.1', '127.0.0.1', () => goodCert, false, 4),
    tlsCase('untrusted CA, https://localhost', 'localhost', () => goodCert, false, 4),
    tlsCase('a certificate for another name, CA trusted', '127.0.0.1', () => wrongNameCert, true, 4),
  ])('$name: exit 4 naming the host, nothing sent, the store unchanged', async ({ host, cert, trust, code }) => {
    await withEmulator({ options: { tls: cert() } }, async (emulator) => {
      const baseUrl = emulator.url.replace('127.0.0.1', host);
      const dir = loggedIn();
      const before = storeSnapshot(dir);
      const run = await loginDemo(dir, baseUrl, [], trust ? { NODE_EXTRA_CA_CERTS: ca.caPath } : {});
      const line = expectCleanFailure(run, code);
      expect(line).toContain(new URL(baseUrl).host);
      expect(line).toMatch(/certificate|TLS/i);
      if (!trust) expect(run.stderr).toMatch(/NODE_EXTRA_CA_CERTS/);
      // The handshake failed: no request (and so no password) reached the server.
      expect(emulator.requests).toEqual([]);
      expect(storeSnapshot(dir)).toEqual(before);
    });
  });

  it.each(['127.0.0.1', 'localhost'] as const)(
    'trusted through NODE_EXTRA_CA_CERTS, https://%s: exit 0, saved',
    async (host) => {
      await withEmulator({ options: { tls: goodCert } }, async (emulator) => {
        const baseUrl = emulator.url.replace('127.0.0.1', host);
        expect(baseUrl).toMatch(/^https:\/\//);
        const dir = loggedIn();
        const run = await loginDemo(dir, baseUrl, [], { NODE_EXTRA_CA_CERTS: ca.caPath });
        expect(run.code, run.stderr).toBe(0);
        expect(emulator.requests.map((r) => r.path)).toEqual([PASSWORD_PATH]);
        expect(savedCredentials(dir)).toMatchObject({ apiKey: demo.apiKey, shopId: demo.shopId, baseUrl });
      });
    },
  );

  it('there is no switch to skip verification: NODE_TLS_REJECT_UNAUTHORIZED=0 does not rescue an untrusted certificate', async () => {
    await withEmulator({ options: { tls: goodCert } }, async (emulator) => {
      const dir = loggedIn();
      const before = storeSnapshot(dir);
      const run = await loginDemo(dir, emulator.url, [], { NODE_TLS_REJECT_UNAUTHORIZED: '0' });
      // Node itself warns on stderr when that variable is set; judge only kash's own lines.
      const own = {
        ...run,
        stderr: run.stderr
          .split('\n')
          .filter((l) => !/NODE_TLS_REJECT_UNAUTHORIZED|^\(node:\d+\)|--trace-warnings/.test(l))
          .join('\n'),
      };
      expectCleanFailure(own, 4);
      expect(emulator.requests).toEqual([]);
      expect(storeSnapshot(dir)).toEqual(before);
    });
  });

  it('a TLS emulator with a fault behind trusted TLS still fails cleanly (redirect off the origin)', async () => {
    await withEmulator({ options: { tls: goodCert }, fault: 'redirect' }, async (emulator) => {
      const dir = loggedIn();
      const before = storeSnapshot(dir);
      const run = await loginDemo(dir, emulator.url, [], { NODE_EXTRA_CA_CERTS: ca.caPath });
      expect(expectCleanFailure(run, 4)).toContain(DEFAULT_REDIRECT_LOCATION);
      expect(emulator.requests).toHaveLength(1);
      expect(storeSnapshot(dir)).toEqual(before);
    });
  });
});
