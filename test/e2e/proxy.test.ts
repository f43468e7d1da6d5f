// Proxies and private certificate authorities, end to end (shared/CLI.md, "Network"): the
// built CLI as a real process, a real tinyproxy between it and the emulator, the emulator
// over HTTPS on an address of this machine other than loopback (loopback never goes
// through a proxy) with a certificate from a throw-away CA, and over plain HTTP on
// loopback. Needs tinyproxy, openssl and such an address.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type KashRun, registerSecret, runKash, useE2e } from '../support/e2e.js';
import { accounts, type Emulator } from '../support/emulator.js';
import { lanAddress } from '../support/needs.js';
import { requires } from '../support/requires.js';
import { storeSnapshot } from '../support/store-snapshot.js';
import { freePort, startTinyproxy, type Tinyproxy } from '../support/tinyproxy.js';
import { makeTestTls, type TestCa } from '../support/tls.js';

vi.setConfig({ testTimeout: 30_000, hookTimeout: 30_000 });

const { demo, shop2 } = accounts;
const TRACER = resolve(import.meta.dirname, '../support/trace.cjs');

// The Basic-auth proxy's credentials: the password must never be printed.
const PROXY_USER = 'kash-proxy-user';
const PROXY_PASSWORD = 'Pr0xy-Pa55-7f3c9e';
const WRONG_PROXY_PASSWORD = 'wrong-Pr0xy-Pa55-51d2';
registerSecret(PROXY_PASSWORD, 'the Basic-auth proxy password');
registerSecret(WRONG_PROXY_PASSWORD, 'a wrong proxy password');

// The emulators are started with the proxies, in the suite below.
const e2e = useE2e({ emulator: false });
const { freshDir } = e2e;

requires('tinyproxy', 'openssl', 'lan-address').describe('through a proxy, with a private CA', () => {
  const lan = lanAddress() ?? '192.0.2.1';
  let ca: TestCa;
  let http: Emulator; // plain HTTP, on loopback, as the contract allows (and never through a proxy)
  let https: Emulator; // HTTPS on the machine's other address, with a certificate for it from the throw-away CA
  let open: Tinyproxy; // lets CONNECT reach both emulators
  let auth: Tinyproxy; // the same, behind Basic auth
  let closed: Tinyproxy; // allows CONNECT to another port only: 403
  let filtered: Tinyproxy; // filters the service's address out: 403
  let deadProxyPort: number; // nothing listens there

  beforeAll(async () => {
    const tls = await makeTestTls(['localhost', '127.0.0.1', lan]);
    ca = tls.ca;
    [http, https] = await Promise.all([
      e2e.startEmulator(),
      e2e.startEmulator({ host: lan, tls: { key: tls.server.key, cert: tls.server.cert } }),
    ]);
    const ports = [new URL(http.url).port, new URL(https.url).port].map(Number);
    const otherPort = await freePort();
    [open, auth, closed, filtered, deadProxyPort] = await Promise.all([
      startTinyproxy({ connectPorts: ports }),
      startTinyproxy({ connectPorts: ports, basicAuth: { user: PROXY_USER, password: PROXY_PASSWORD } }),
      startTinyproxy({ connectPorts: [otherPort] }),
      startTinyproxy({ connectPorts: ports, filter: [`^${lan.replaceAll('.', '\\.')}$`] }),
      freePort(),
    ]);
  });

  afterAll(async () => {
    await Promise.all([open, auth, closed, filtered].map((proxy) => proxy?.stop()));
    await ca?.cleanup();
  });

  // ---------------------------------------------------------------------------------------

  /** A config folder holding shop2's credentials, which a failed login must leave exactly as they are. */
  function seededDir(baseUrl: string): string {
    const dir = freshDir();
    mkdirSync(dir, { mode: 0o700 });
    const saved = {
      apiKey: shop2.apiKey,
      shopId: String(shop2.shopId),
      login: shop2.login,
      email: null,
      method: 'password',
      baseUrl,
      obtainedAt: '2026-11-28T12:00:00.000Z',
      shopTitle: null,
    };
    writeFileSync(
      join(dir, 'credentials.json'),
      JSON.stringify({ version: 1, profiles: { default: { credentials: saved } } }),
      { mode: 0o600 },
    );
    return dir;
  }

  const hostOf = (emulator: Emulator) => new URL(emulator.url).host; // <address>:<port>

  /** The proxy URL with credentials in it. */
  const withCredentials = (proxy: Tinyproxy, user: string, password: string) =>
    `http://${user}:${password}@127.0.0.1:${proxy.port}`;

  interface LoginOptions {
    env?: Record<string, string | undefined>;
    args?: string[];
    nodeArgs?: string[];
  }

  /** `kash login` as demo against `emulator`, with nothing from outside but `env`. */
  function login(dir: string, emulator: Emulator, options: LoginOptions = {}): Promise<KashRun> {
    return runKash(['--config-dir', dir, 'login', '--login', demo.login, ...(options.args ?? [])], {
      env: {
        KASH_BASE_URL: emulator.url,
        KASH_PASSWORD: demo.password,
        NODE_EXTRA_CA_CERTS: undefined,
        ...options.env,
      },
      ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}),
    });
  }

  const trusted = () => ({ NODE_EXTRA_CA_CERTS: ca.caPath });

  function savedKey(dir: string): unknown {
    const store = JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8')) as {
      profiles: Record<string, { credentials?: { apiKey?: unknown } }>;
    };
    return store.profiles.default?.credentials?.apiKey;
  }

  /** The `error: …` line of a failed run. */
  const errorLine = (run: KashRun) =>
    run.stderr.split('\n').find((line) => line.startsWith('error:')) ?? `(no error line in: ${run.stderr})`;

  const PASSWORD_PATH = '/workers/getAuthTokenWithPassword.php';
  const hits = (emulator: Emulator) => emulator.requests.filter((r) => r.path === PASSWORD_PATH).length;

  /** A login that must fail with exit 4 and leave a saved store byte for byte as it was. */
  async function failingLogin(emulator: Emulator, env: Record<string, string | undefined>): Promise<KashRun> {
    const dir = seededDir(emulator.url);
    const before = storeSnapshot(dir);
    const run = await login(dir, emulator, { env });
    expect(run.code, run.stderr).toBe(4);
    expect(run.stdout).toBe('');
    expect(storeSnapshot(dir)).toEqual(before);
    return run;
  }

  // ---------------------------------------------------------------------------------------

  /** A listener that counts the connections made to it, and closes each at once. */
  async function counter(): Promise<{ url: string; count(): number; close(): Promise<void> }> {
    let connections = 0;
    const server: Server = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const { port } = server.address() as { port: number };
    return {
      url: `http://${PROXY_USER}:${PROXY_PASSWORD}@127.0.0.1:${port}`,
      count: () => connections,
      close: () => new Promise((done) => server.close(() => done())),
    };
  }

  describe('loopback never goes through a proxy', () => {
    it('with every proxy variable set, and NO_PROXY naming something else, the login goes direct: the proxy sees no connection', async () => {
      const listener = await counter();
      try {
        const everything = {
          HTTPS_PROXY: listener.url,
          https_proxy: listener.url,
          HTTP_PROXY: listener.url,
          http_proxy: listener.url,
          NO_PROXY: 'example.com',
        };
        const dir = freshDir();
        const run = await login(dir, http, { env: everything, args: ['--verbose'] });
        expect(run.code, run.stderr).toBe(0);
        expect(savedKey(dir)).toBe(demo.apiKey);
        expect(run.stderr).not.toMatch(/through the proxy/);
        expect(listener.count(), 'connections to the proxy').toBe(0);
      } finally {
        await listener.close();
      }
    });
  });

  describe('a proxy that drops every tunnel', () => {
    it('is exit 4 naming the proxy (password hidden) after at most 3 connections, never a reconnect storm', async () => {
      const listener = await counter();
      try {
        const started = Date.now();
        const run = await failingLogin(https, { HTTPS_PROXY: listener.url, ...trusted() });
        expect(errorLine(run)).toMatch(/the proxy http:\/\/kash-proxy-user:\*\*\*@127\.0\.0\.1:\d+ /);
        expect(run.stderr).not.toContain(PROXY_PASSWORD);
        expect(Date.now() - started).toBeLessThan(10_000);
        // Time for a storm to show itself, had one started.
        await new Promise((done) => setTimeout(done, 300));
        expect(listener.count()).toBeGreaterThanOrEqual(1);
        expect(listener.count()).toBeLessThanOrEqual(3);
      } finally {
        await listener.close();
      }
    });
  });

  describe('HTTPS through HTTPS_PROXY, with a private CA', () => {
    it.each([
      ['HTTPS_PROXY', { HTTPS_PROXY: 'open' }],
      ['https_proxy', { https_proxy: 'open' }],
      ['HTTP_PROXY (the fallback for https)', { HTTP_PROXY: 'open' }],
    ])(
      '%s: NODE_EXTRA_CA_CERTS trusts the CA, the proxy sees a CONNECT, the credentials are saved',
      async (_name, variables) => {
        const dir = freshDir();
        const mark = await open.mark();
        const served = hits(https);
        const env = Object.fromEntries(Object.keys(variables).map((name) => [name, open.url]));
        const run = await login(dir, https, { env: { ...env, ...trusted() } });
        expect(run.code, run.stderr).toBe(0);
        expect(savedKey(dir)).toBe(demo.apiKey);
        expect(await open.requests(mark)).toEqual([`CONNECT ${hostOf(https)} HTTP/1.1`]);
        expect(hits(https)).toBe(served + 1);
      },
    );

    it('--verbose names the proxy with its password hidden, and a Basic-auth proxy lets the right credentials through', async () => {
      const dir = freshDir();
      const mark = await auth.mark();
      const run = await login(dir, https, {
        env: { HTTPS_PROXY: withCredentials(auth, PROXY_USER, PROXY_PASSWORD), ...trusted() },
        args: ['--verbose'],
      });
      expect(run.code, run.stderr).toBe(0);
      expect(savedKey(dir)).toBe(demo.apiKey);
      expect(run.stderr).toContain(`http://${PROXY_USER}:***@127.0.0.1:${auth.port}`);
      expect(run.stdout + run.stderr).not.toContain(PROXY_PASSWORD);
      expect(run.stdout + run.stderr).not.toContain(encodeURIComponent(PROXY_PASSWORD));
      expect(await auth.requests(mark)).toEqual([`CONNECT ${hostOf(https)} HTTP/1.1`]);
    });

    it('a proxy without a password is named as it is', async () => {
      const run = await login(freshDir(), https, { env: { HTTPS_PROXY: open.url, ...trusted() }, args: ['--verbose'] });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toContain(`proxy http://127.0.0.1:${open.port}`);
    });

    it('wrong or missing proxy credentials: exit 4 naming the proxy (password hidden), store unchanged', async () => {
      const served = hits(https);
      const [wrong, none] = await Promise.all([
        failingLogin(https, { HTTPS_PROXY: withCredentials(auth, PROXY_USER, WRONG_PROXY_PASSWORD), ...trusted() }),
        failingLogin(https, { HTTPS_PROXY: auth.url, ...trusted() }),
      ]);
      expect(errorLine(wrong)).toContain(`proxy http://${PROXY_USER}:***@127.0.0.1:${auth.port}`);
      expect(errorLine(wrong)).toContain('rejected its credentials');
      expect(wrong.stderr).not.toContain(WRONG_PROXY_PASSWORD);
      expect(errorLine(none)).toContain(`proxy http://127.0.0.1:${auth.port}`);
      expect(hits(https), 'nothing got past the proxy').toBe(served);
    });

    it('through a Basic-auth proxy too', async () => {
      const dir = freshDir();
      const mark = await auth.mark();
      const run = await login(dir, https, {
        env: { HTTPS_PROXY: withCredentials(auth, PROXY_USER, PROXY_PASSWORD), ...trusted() },
      });
      expect(run.code, run.stderr).toBe(0);
      expect(savedKey(dir)).toBe(demo.apiKey);
      expect(await auth.requests(mark)).toEqual([`CONNECT ${hostOf(https)} HTTP/1.1`]);
    });
  });

  describe('NO_PROXY', () => {
    it.each([
      ['NO_PROXY', 'ADDRESS'],
      ['no_proxy', 'ADDRESS'],
      ['NO_PROXY', 'ADDRESS:PORT'],
      ['NO_PROXY', '*'],
      ['NO_PROXY', 'example.com, ADDRESS'],
    ])(
      '%s=%s naming the service bypasses the proxy: the login works, the proxy sees nothing',
      async (variable, value) => {
        const noProxy = value.replace('ADDRESS:PORT', hostOf(https)).replace('ADDRESS', lan);
        const dir = freshDir();
        const mark = await open.mark();
        const served = hits(https);
        const run = await login(dir, https, {
          env: { HTTPS_PROXY: open.url, HTTP_PROXY: open.url, [variable]: noProxy, ...trusted() },
        });
        expect(run.code, run.stderr).toBe(0);
        expect(savedKey(dir)).toBe(demo.apiKey);
        expect(hits(https)).toBe(served + 1);
        // No connection at all reached the proxy, let alone a request.
        expect(await open.log(mark)).not.toMatch(/Connect \(file descriptor|Request \(file descriptor/);
      },
    );

    it('NO_PROXY naming another host or port does not bypass it', async () => {
      const mark = await open.mark();
      const run = await login(freshDir(), https, {
        env: { HTTPS_PROXY: open.url, NO_PROXY: `example.com,${lan}:${deadProxyPort},127.0.0.1`, ...trusted() },
      });
      expect(run.code, run.stderr).toBe(0);
      expect(await open.requests(mark)).toEqual([`CONNECT ${hostOf(https)} HTTP/1.1`]);
    });

    it('the bypass goes direct even when the proxy would fail', async () => {
      const run = await login(freshDir(), https, {
        env: { HTTPS_PROXY: `http://127.0.0.1:${deadProxyPort}`, NO_PROXY: lan, ...trusted() },
      });
      expect(run.code, run.stderr).toBe(0);
    });
  });

  describe('a certificate that does not verify', () => {
    it('without NODE_EXTRA_CA_CERTS, through the proxy and directly: exit 4 naming the host and suggesting NODE_EXTRA_CA_CERTS', async () => {
      const mark = await open.mark();
      const [proxied, direct] = await Promise.all([
        failingLogin(https, { HTTPS_PROXY: open.url }),
        failingLogin(https, {}),
      ]);
      for (const run of [proxied, direct]) {
        expect(errorLine(run)).toContain(hostOf(https));
        expect(errorLine(run)).toMatch(/certificate/i);
        expect(run.stderr).toContain('NODE_EXTRA_CA_CERTS');
      }
      // The proxied one really went through the proxy: the tunnel was opened, then TLS failed inside it.
      expect(await open.requests(mark)).toEqual([`CONNECT ${hostOf(https)} HTTP/1.1`]);
    });
  });

  describe('a proxy that fails', () => {
    it('refusing the CONNECT (port not allowed, host filtered): exit 4 naming the proxy and the refusal, store unchanged', async () => {
      const served = hits(https);
      const [port, filter, fallback] = await Promise.all([
        failingLogin(https, { HTTPS_PROXY: closed.url, ...trusted() }),
        failingLogin(https, { HTTPS_PROXY: filtered.url, ...trusted() }),
        failingLogin(https, { HTTP_PROXY: closed.url, ...trusted() }),
      ]);
      expect(errorLine(port)).toContain(`proxy http://127.0.0.1:${closed.port}`);
      expect(errorLine(port)).toContain('403');
      expect(errorLine(filter)).toContain(`proxy http://127.0.0.1:${filtered.port}`);
      expect(errorLine(filter)).toContain('403');
      expect(errorLine(fallback)).toContain(`proxy http://127.0.0.1:${closed.port}`);
      for (const run of [port, filter, fallback]) {
        // It is the proxy's failure: the service is not said to be down or unreachable.
        expect(errorLine(run)).not.toMatch(/could not connect to https?:\/\/|answered HTTP/);
        expect(run.stderr).toMatch(/HTTPS?_PROXY|NO_PROXY/);
      }
      expect(hits(https), 'no request reached the service').toBe(served);
    });

    it('not listening: exit 4 "could not connect to the proxy …", store unchanged', async () => {
      const dead = `127.0.0.1:${deadProxyPort}`;
      const [secure, fallback, secret] = await Promise.all([
        failingLogin(https, { HTTPS_PROXY: `http://${dead}`, ...trusted() }),
        failingLogin(https, { HTTP_PROXY: `http://${dead}`, ...trusted() }),
        failingLogin(https, { HTTPS_PROXY: `http://${PROXY_USER}:${PROXY_PASSWORD}@${dead}`, ...trusted() }),
      ]);
      expect(errorLine(secure)).toContain(`could not connect to the proxy http://${dead}`);
      expect(errorLine(fallback)).toContain(`could not connect to the proxy http://${dead}`);
      expect(errorLine(secret)).toContain(`could not connect to the proxy http://${PROXY_USER}:***@${dead}`);
      expect(secret.stderr).not.toContain(PROXY_PASSWORD);
    });

    it('an unusable proxy URL is a usage error (exit 2), store unchanged', async () => {
      const dir = seededDir(https.url);
      const before = storeSnapshot(dir);
      const run = await login(dir, https, { env: { HTTPS_PROXY: 'socks5://127.0.0.1:1080', ...trusted() } });
      expect(run.code, run.stderr).toBe(2);
      expect(errorLine(run)).toContain('HTTPS_PROXY');
      expect(storeSnapshot(dir)).toEqual(before);
    });
  });

  describe('undici is loaded only for a request through a proxy', () => {
    interface Event {
      kind: string;
      detail: string;
    }
    let runs = 0;
    async function traced(
      args: string[],
      dir: string,
      env: Record<string, string>,
    ): Promise<{ run: KashRun; libraries: string[] }> {
      const trace = join(dir, `..`, `trace-${runs++}.jsonl`);
      writeFileSync(trace, '');
      const run = await runKash(['--config-dir', dir, ...args], {
        nodeArgs: ['--require', TRACER],
        env: { KASH_BASE_URL: https.url, KASH_TRACE: trace, NODE_EXTRA_CA_CERTS: ca.caPath, ...env },
      });
      const events = readFileSync(trace, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Event);
      const libraries = [
        ...new Set(
          events
            .filter((e) => e.kind === 'module' && /\/dist\/lib\//.test(e.detail))
            .map((e) => e.detail.replace(/^.*\/dist\//, 'dist/')),
        ),
      ];
      return { run, libraries };
    }

    const LOGIN = ['login', '--login', demo.login];

    it('whoami and env with HTTPS_PROXY set load no undici', async () => {
      const dir = seededDir(https.url);
      const proxy = { HTTPS_PROXY: open.url, HTTP_PROXY: open.url };
      const results = await Promise.all([
        traced(['whoami'], dir, proxy),
        traced(['env'], dir, proxy),
        traced(['whoami', '--json'], dir, proxy),
      ]);
      for (const { run, libraries } of results) {
        expect(run.code, run.stderr).toBe(0);
        expect(libraries).not.toContain('dist/lib/undici.cjs');
      }
    });

    it('a login without any proxy variable loads no undici; one through the proxy loads undici', async () => {
      const [direct, proxied] = await Promise.all([
        traced(LOGIN, freshDir(), { KASH_PASSWORD: demo.password }),
        traced(LOGIN, freshDir(), { KASH_PASSWORD: demo.password, HTTPS_PROXY: open.url }),
      ]);
      expect(direct.run.code, direct.run.stderr).toBe(0);
      expect(direct.libraries).not.toContain('dist/lib/undici.cjs');
      expect(proxied.run.code, proxied.run.stderr).toBe(0);
      expect(proxied.libraries).toContain('dist/lib/undici.cjs');
    });

    it('a login whose host is in NO_PROXY loads no undici', async () => {
      const { run, libraries } = await traced(LOGIN, freshDir(), {
        KASH_PASSWORD: demo.password,
        HTTPS_PROXY: open.url,
        NO_PROXY: lan,
      });
      expect(run.code, run.stderr).toBe(0);
      expect(libraries).not.toContain('dist/lib/undici.cjs');
    });
  });
});
