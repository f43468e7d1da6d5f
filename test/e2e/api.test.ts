// kash api end to end (CLI.md, "The API"): the built CLI against the emulator's API
// endpoints. What is sent (the three credential fields beside the user's), what comes
// back and where it goes (byte for byte, a file written atomically, nothing binary on a
// terminal), memory that stays flat on a large export, a timeout that bounds each silence
// rather than the whole body, credentials from the environment or the keyring, and every
// exit code.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { KASH_BIN, useE2e } from '../support/e2e.js';
import { accounts, exportBytes, ONE_MIB, PAYMENT_MODES, SALES_PDF } from '../support/emulator.js';
import { useKeyring } from '../support/keyring-runs.js';
import { start as startPty } from '../support/pty.js';
import { requires } from '../support/requires.js';

vi.setConfig({ testTimeout: 60_000 });

const e2e = useE2e();
const keyring = useKeyring(e2e);
const { demo } = accounts;
const MAX_RSS = resolve(import.meta.dirname, '../support/max-rss.cjs');

/** A config folder where demo is logged in (saved against this file's emulator). */
function loggedIn(): string {
  const dir = e2e.freshDir();
  mkdirSync(dir, { mode: 0o700 });
  const credentials = {
    storage: 'file',
    apiKey: demo.apiKey,
    shopId: demo.shopId,
    login: demo.login,
    email: null,
    method: 'password',
    baseUrl: e2e.emulator.url,
    obtainedAt: '2026-12-01T08:00:00.000Z',
    shopTitle: null,
  };
  writeFileSync(join(dir, 'credentials.json'), JSON.stringify({ version: 2, profiles: { default: { credentials } } }), {
    mode: 0o600,
  });
  return dir;
}

interface RawRun {
  code: number | null;
  /** Everything on stdout, byte for byte (the harness reads it as text); empty when not kept. */
  stdout: Buffer;
  bytes: number;
  stderr: string;
  ms: number;
}

/** `kash --config-dir <dir> <args…>` with its stdout as bytes, counted and, with `keep`, kept. */
function rawKash(
  dir: string,
  args: string[],
  options: { env?: Record<string, string | undefined>; nodeArgs?: string[]; keep?: boolean } = {},
): Promise<RawRun> {
  const started = Date.now();
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), KASH_BIN, '--config-dir', dir, ...args], {
    env: e2e.env({ KASH_BASE_URL: e2e.emulator.url, ...options.env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const kept: Buffer[] = [];
  let bytes = 0;
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (options.keep !== false) kept.push(chunk);
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  return new Promise((done) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout: Buffer.concat(kept), bytes, stderr, ms: Date.now() - started });
    }),
  );
}

const exportArgs = (size: number) => ['api', 'getSales', '-f', 'formatExport=XLS', '-f', `size=${size}`];

const requestsTo = (path: string) => e2e.emulator.requests.filter((r) => r.path.split('?')[0] === path);

describe('kash api', () => {
  it('a JSON read: the request carries key, shopID and idboutique after the user’s fields; the body on stdout', async () => {
    const before = requestsTo('/workers/getPaymentModes.php').length;
    const run = await e2e.kash(loggedIn(), ['api', 'getPaymentModes', '-f', 'format=json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(PAYMENT_MODES);
    expect(run.stderr).toBe('');
    const sent = requestsTo('/workers/getPaymentModes.php').slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.method).toBe('GET');
    expect([...(sent[0]?.query ?? [])]).toEqual([
      ['format', 'json'],
      ['key', demo.apiKey],
      ['shopID', demo.shopId],
      ['idboutique', demo.shopId],
    ]);
  });

  it('a CSV export, byte for byte; the same into --output', async () => {
    const dir = loggedIn();
    const args = ['api', 'getSales', '-f', 'd=30', '-f', 'm=11', '-f', 'y=2026', '-f', 'formatExport=CSV'];
    const run = await e2e.kash(dir, args);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('date;ticket;total\n2026-11-30;1;12.50\n2026-11-30;2;7.80\n');
    const file = join(dir, 'sales.csv');
    const saved = await e2e.kash(dir, [...args, '--output', file]);
    expect(saved.code, saved.stderr).toBe(0);
    expect(saved.stdout).toBe('');
    expect(readFileSync(file, 'utf8')).toBe(run.stdout);
  });

  it('a binary PDF into --output, every byte; a failed call leaves the file as it was', async () => {
    const dir = loggedIn();
    const file = join(dir, 'sales.pdf');
    const run = await e2e.kash(dir, ['api', 'getSales', '-f', 'formatExport=PDF', '--output', file]);
    expect(run.code, run.stderr).toBe(0);
    expect(readFileSync(file).equals(SALES_PDF)).toBe(true);
    const refused = await e2e.kash(dir, ['api', 'getSales', '-f', 'formatExport=PDF', '--output', file], {
      env: { KASH_APIKEY: 'wrong-key-0123456789', KASH_SHOPID: '42' },
    });
    expect(refused.code).toBe(3);
    expect(readFileSync(file).equals(SALES_PDF)).toBe(true);
  });

  requires('script').it('a binary body is refused at a terminal, with a hint; nothing of it is drawn', async () => {
    const dir = loggedIn();
    const pty = startPty(['--config-dir', dir, 'api', 'getSales', '-f', 'formatExport=PDF'], {
      KASH_BASE_URL: e2e.emulator.url,
    });
    try {
      await pty.waitFor(/error: the answer is binary/);
      expect(await pty.exit()).toBe(1);
      expect(pty.output()).toContain('--output <file>');
      expect(pty.rawOutput()).not.toContain('%PDF');
    } finally {
      pty.kill();
    }
  });

  it('a 100 MB export streams through in flat memory (peak under 150 MB)', async () => {
    const dir = loggedIn();
    const rss = join(dir, 'rss');
    const size = 100 * 1024 * 1024;
    const run = await rawKash(dir, exportArgs(size), {
      nodeArgs: ['--require', MAX_RSS],
      env: { KASH_TEST_RSS: rss },
      keep: false,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.bytes).toBe(size);
    expect(Number(readFileSync(rss, 'utf8')) / 1024, 'peak memory in MB').toBeLessThan(150);
  });

  // Past 1 MiB kash stops holding the body back for the refusal check and streams it: the
  // part it held and the rest must join up, on stdout as in a file.
  it.concurrent.for([ONE_MIB + 1, 3 * ONE_MIB + 12_345])(
    'a body of %i bytes, byte for byte, on stdout and into --output',
    async (size) => {
      const dir = loggedIn();
      const file = join(dir, 'export.xls');
      const [out, saved] = await Promise.all([
        rawKash(dir, exportArgs(size)),
        rawKash(dir, [...exportArgs(size), '--output', file]),
      ]);
      const expected = exportBytes(size);
      expect(out.code, out.stderr).toBe(0);
      expect(out.stdout.length).toBe(size);
      expect(out.stdout.equals(expected), 'stdout as the service sent it').toBe(true);
      expect(saved.code, saved.stderr).toBe(0);
      expect(saved.bytes).toBe(0);
      expect(readFileSync(file).equals(expected), '--output as the service sent it').toBe(true);
    },
  );

  it('a POST with repeated fields, in order, in a form body', async () => {
    const before = requestsTo('/workers/webapp.php').length;
    const run = await e2e.kash(loggedIn(), [
      'api',
      'webapp',
      '-X',
      'POST',
      '-f',
      'itemsList[]=12',
      '-f',
      'itemsList[]=15',
      '-f',
      'payment=1',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ success: true, orderID: expect.any(Number) });
    const [sent] = requestsTo('/workers/webapp.php').slice(before);
    expect(sent?.method).toBe('POST');
    expect(sent?.body).toBe(
      `itemsList%5B%5D=12&itemsList%5B%5D=15&payment=1&key=${demo.apiKey}&shopID=42&idboutique=42`,
    );
  });

  it('another origin is refused with nothing sent', async () => {
    const before = e2e.emulator.requests.length;
    const run = await e2e.kash(loggedIn(), ['api', 'https://elsewhere.example/workers/getPlus.php']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/not on http:\/\/127\.0\.0\.1:\d+, where the credentials belong/);
    expect(e2e.emulator.requests.length).toBe(before);
  });

  it('a wrong key is exit 3, its words on stderr, the body on stdout', async () => {
    const run = await e2e.kash(e2e.freshDir(), ['api', 'getPaymentModes'], {
      env: { KASH_APIKEY: 'wrong-key-0123456789', KASH_SHOPID: '42' },
    });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^error: the service refused: Wrong key or shop ID$/m);
    expect(JSON.parse(run.stdout)).toEqual({ success: false, result: 'Wrong key or shop ID' });
  });

  it.each([
    ['HTTP 500', 'http500', /answered HTTP 500/],
    ['a redirect', 'redirect', /answered with a redirect to https:\/\/elsewhere\.example\/login; kash does not follow/],
  ] as const)('%s is exit 4, nothing on stdout', async (_what, fault, says) => {
    const emulator = await e2e.startEmulator();
    emulator.fault = fault;
    const run = await e2e.kash(loggedIn(), ['api', 'getPaymentModes'], { env: { KASH_BASE_URL: emulator.url } });
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(says);
    expect(run.stdout).toBe('');
  });

  describe.concurrent('--timeout: to the first byte, and between bytes', () => {
    it('no byte within --timeout is exit 4 at the timeout, nothing on stdout', async () => {
      const emulator = await e2e.startEmulator();
      emulator.fault = 'slow';
      emulator.slowMs = 10_000;
      const run = await rawKash(loggedIn(), ['api', 'getPaymentModes', '--timeout', '1'], {
        env: { KASH_BASE_URL: emulator.url },
      });
      expect(run.code, run.stderr).toBe(4);
      expect(run.stderr).toMatch(/^error: http:\/\/127\.0\.0\.1:\d+ did not answer within 1 s$/m);
      expect(run.stderr).toMatch(/--timeout/);
      expect(run.bytes).toBe(0);
      expect(run.ms, 'ended by the timeout, not the service').toBeLessThan(4_000);
    });

    it('part of a small body, then silence past --timeout: exit 4, nothing on stdout, --output untouched', async () => {
      const emulator = await e2e.startEmulator();
      emulator.fault = 'stallBody';
      const dir = loggedIn();
      const file = join(dir, 'modes.json');
      writeFileSync(file, 'as it was');
      const args = ['api', 'getPaymentModes', '--timeout', '1'];
      const env = { KASH_BASE_URL: emulator.url };
      const [out, saved] = await Promise.all([
        rawKash(dir, args, { env }),
        rawKash(dir, [...args, '--output', file], { env }),
      ]);
      for (const run of [out, saved]) {
        expect(run.code, run.stderr).toBe(4);
        expect(run.stderr).toMatch(
          /^error: http:\/\/127\.0\.0\.1:\d+\/workers\/getPaymentModes\.php went silent for 1 s$/m,
        );
        expect(run.bytes).toBe(0);
        expect(run.ms).toBeLessThan(4_000);
      }
      expect(readFileSync(file, 'utf8')).toBe('as it was');
    });

    it('a large body that goes silent past --timeout: exit 4, stdout holds what came, byte for byte', async () => {
      const emulator = await e2e.startEmulator();
      const sent = 2 * ONE_MIB + 777;
      emulator.exportStallsAfter = sent;
      const run = await rawKash(loggedIn(), [...exportArgs(4 * ONE_MIB), '--timeout', '1'], {
        env: { KASH_BASE_URL: emulator.url },
      });
      expect(run.code, run.stderr).toBe(4);
      expect(run.stderr).toMatch(/went silent for 1 s/);
      expect(run.stderr).toMatch(/Standard output may hold part of the body/);
      expect(run.stdout.equals(exportBytes(sent)), 'stdout: what was sent, no more').toBe(true);
      expect(run.ms).toBeLessThan(4_000);
    });

    it('a body that keeps coming, a byte at a time, for longer than --timeout in all: exit 0, all of it', async () => {
      const emulator = await e2e.startEmulator();
      emulator.fault = 'dribble';
      emulator.dribbleMs = 45;
      const run = await rawKash(loggedIn(), ['api', 'getPaymentModes', '-f', 'format=csv', '--timeout', '1'], {
        env: { KASH_BASE_URL: emulator.url },
      });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout.toString('utf8')).toBe('id;name\n1;Espèces\n2;Carte bancaire\n3;Chèque\n');
      expect(run.ms, 'the body took longer than the timeout').toBeGreaterThan(1_500);
    });
  });

  it('not logged in is exit 5, nothing sent', async () => {
    const before = e2e.emulator.requests.length;
    const run = await e2e.kash(e2e.freshDir(), ['api', 'getPaymentModes']);
    expect(run.code).toBe(5);
    expect(e2e.emulator.requests.length).toBe(before);
  });

  it('--verbose names the method, path, field names and status, never the key', async () => {
    const run = await e2e.kash(loggedIn(), ['api', 'getPaymentModes', '-f', 'format=csv', '--verbose']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(
      /GET http:\/\/127\.0\.0\.1:\d+\/workers\/getPaymentModes\.php fields: format, key, shopID, idboutique/,
    );
    expect(run.stderr).toMatch(/200 OK/);
    expect(run.stderr).not.toContain(demo.apiKey);
  });

  it('credentials from the environment, with the base URL setting', async () => {
    const run = await e2e.kash(e2e.freshDir(), ['api', 'getPaymentModes'], {
      env: { KASH_APIKEY: demo.apiKey, KASH_SHOPID: demo.shopId },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(PAYMENT_MODES);
  });

  requires('gnome-keyring', 'dbus').it(
    'credentials from a keyring profile: the key comes from the keyring; with the keyring gone, exit 6 and nothing sent',
    async () => {
      const session = await keyring.session();
      const dir = e2e.freshDir();
      await keyring.keyLogin(session.env, dir, demo.apiKey, ['--storage', 'keyring'], demo.shopId);
      expect(readFileSync(join(dir, 'credentials.json'), 'utf8')).not.toContain(demo.apiKey);

      const before = requestsTo('/workers/getPaymentModes.php').length;
      const run = await keyring.kash(session.env, dir, ['api', 'getPaymentModes']);
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual(PAYMENT_MODES);
      const sent = requestsTo('/workers/getPaymentModes.php').slice(before);
      expect(sent).toHaveLength(1);
      expect([...(sent[0]?.query ?? [])]).toEqual([
        ['key', demo.apiKey],
        ['shopID', demo.shopId],
        ['idboutique', demo.shopId],
      ]);

      await session.killDaemon();
      const gone = await keyring.kash(session.env, dir, ['api', 'getPaymentModes']);
      expect(gone.code, gone.stderr).toBe(6);
      expect(gone.stderr).toMatch(/keeps its key in the system keyring, but none answers/);
      expect(gone.stdout).toBe('');
      expect(requestsTo('/workers/getPaymentModes.php').length).toBe(before + 1);
    },
  );

  it('--output into a folder that does not exist: one clear line, nothing left behind', async () => {
    const dir = loggedIn();
    const run = await e2e.kash(dir, ['api', 'getPaymentModes', '--output', join(dir, 'missing', 'x.json')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: cannot write .*x\.json \(ENOENT\)$/m);
    expect(run.stderr).not.toMatch(/unexpected internal error/);
    expect(existsSync(join(dir, 'missing'))).toBe(false);
  });
});
