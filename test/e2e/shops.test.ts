// End-to-end tests of `kash shops [--email] [--title]` (shared/CLI.md and the one-time-code
// issue): the built CLI runs as a real process against the emulator on 127.0.0.1, each
// test with its own emulator and its own temporary KASH_CONFIG_DIR, concurrently.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type KashRun, runKash, useE2e } from '../support/e2e.js';
import { type Emulator, type Fault, otpEmails, shops } from '../support/emulator.js';

const LIST_SHOPS = '/workers/listShops.php';

const ONE = otpEmails.one.email;
const TWO = otpEmails.two.email;
const NONE = otpEmails.none.email;

// No emulator for the whole file: each world starts its own, closed after the file's tests.
const e2e = useE2e({ emulator: false });

interface World {
  emulator: Emulator;
  dir: string;
  /** Runs bin/kash.js against this world; returns the run and the requests the emulator saw meanwhile. */
  kash(args: string[], env?: Record<string, string | undefined>): Promise<[KashRun, Emulator['requests']]>;
}

async function world(): Promise<World> {
  const emulator = await e2e.startEmulator({ host: '127.0.0.1' });
  const dir = e2e.tempDir();
  return {
    emulator,
    dir,
    async kash(args, env = {}) {
      const before = emulator.requests.length;
      const run = await runKash(args, {
        env: { KASH_CONFIG_DIR: dir, KASH_BASE_URL: emulator.url, ...env },
        timeoutMs: 15_000,
      });
      return [run, emulator.requests.slice(before)];
    },
  };
}

function ok(run: KashRun): KashRun {
  expect(run.code, `exit status; stderr:\n${run.stderr}`).toBe(0);
  return run;
}

const storeFile = (dir: string) => join(dir, 'credentials.json');

describe.concurrent('kash shops', { timeout: 30_000 }, () => {
  it('--json for two@: the array of {accountId, title}, and nothing else on stdout', async () => {
    const w = await world();
    const [run, requests] = await w.kash(['shops', '--email', TWO, '--json']);
    ok(run);
    expect(JSON.parse(run.stdout)).toEqual([
      { accountId: shops.corner.accountId, title: shops.corner.title },
      { accountId: shops.harbour.accountId, title: shops.harbour.title },
    ]);
    expect(requests.map((r) => [r.path, r.fields])).toEqual([[LIST_SHOPS, { email: TWO }]]);
  });

  it('--json for one@: its one shop', async () => {
    const w = await world();
    const [run] = await w.kash(['shops', '--email', ONE, '--json']);
    expect(JSON.parse(ok(run).stdout)).toEqual([{ accountId: '100', title: 'Solo Shop' }]);
  });

  it('for a person: each shop with its title and account ID, on stdout alone; no key, nothing saved', async () => {
    const w = await world();
    const [run] = await w.kash(['shops', '--email', TWO]);
    ok(run);
    // The list is the query's result (`kash shops | grep`): all of stdout, and none of it on stderr.
    expect(run.stdout).toBe('ID   Title\n101  Corner Café\n102  Harbour Store\n');
    expect(run.stderr).toBe(`Log in to one with: kash login --otp --email ${TWO} --account-id <ID>\n`);
    expect(run.stdout + run.stderr).not.toContain(shops.corner.apiKey);
    expect(existsSync(storeFile(w.dir))).toBe(false);
  });

  it('--title keeps only the shop of that title (sent as accountTitle)', async () => {
    const w = await world();
    const [run, requests] = await w.kash(['shops', '--email', TWO, '--title', 'Harbour Store', '--json']);
    expect(JSON.parse(ok(run).stdout)).toEqual([{ accountId: '102', title: 'Harbour Store' }]);
    expect(requests.map((r) => r.fields)).toEqual([{ email: TWO, accountTitle: 'Harbour Store' }]);
  });

  it('--title matching no shop: exit 3', async () => {
    const w = await world();
    const [run] = await w.kash(['shops', '--email', TWO, '--title', 'No Such Shop', '--json']);
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^error: /m);
  });

  it('an email with no shop (none@): exit 3 with a message saying so, cleanly', async () => {
    const w = await world();
    const [run, requests] = await w.kash(['shops', '--email', NONE]);
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^error: .*no shop.*none@kash\.click/im);
    expect(run.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    expect(requests).toHaveLength(1);
  });

  it('with --json too, no shop is exit 3 and stdout stays empty', async () => {
    const w = await world();
    const [run] = await w.kash(['shops', '--email', NONE, '--json']);
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
  });

  it('an invalid email: exit 2, no request sent', async () => {
    const w = await world();
    const [run, requests] = await w.kash(['shops', '--email', 'not-an-email']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: .*email/m);
    expect(requests).toHaveLength(0);
  });

  it('KASH_EMAIL supplies the email; --email beats it', async () => {
    const w = await world();
    const [fromEnv] = await w.kash(['shops', '--json'], { KASH_EMAIL: ONE });
    expect(JSON.parse(ok(fromEnv).stdout)).toEqual([{ accountId: '100', title: 'Solo Shop' }]);
    const [flag, requests] = await w.kash(['shops', '--json', '--email', TWO], { KASH_EMAIL: ONE });
    ok(flag);
    expect(requests.map((r) => r.fields.email)).toEqual([TWO]);
  });

  it('no email and no terminal: exit 2 naming --email and KASH_EMAIL', async () => {
    const w = await world();
    const [run, requests] = await w.kash(['shops']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--email');
    expect(run.stderr).toContain('KASH_EMAIL');
    expect(requests).toHaveLength(0);
  });

  it('leaves an existing store byte for byte as it was', async () => {
    const w = await world();
    ok((await w.kash(['otp', 'request', '--email', TWO, '--account-id', '101']))[0]);
    const before = readFileSync(storeFile(w.dir));
    ok((await w.kash(['shops', '--email', TWO]))[0]);
    expect((await w.kash(['shops', '--email', NONE]))[0].code).toBe(3);
    expect(readFileSync(storeFile(w.dir))).toEqual(before);
  });

  // listShops answers an array: every fault, even a well-formed credentials object, is not that.
  const faults: Fault[] = [
    'http500',
    'html',
    'slow',
    'redirect',
    'huge',
    'exact1MiB',
    'noKey',
    'keyNewline',
    'drop',
    'stallBody',
  ];
  it.for(faults)('service fault %s: exit 4, an error line, nothing on stdout', async (fault) => {
    const w = await world();
    w.emulator.fault = fault;
    w.emulator.slowMs = 120_000;
    const [run] = await w.kash(['shops', '--email', TWO, '--json', '--timeout', '0.5']);
    expect(run.code, run.stderr).toBe(4);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^error: /m);
    expect(existsSync(storeFile(w.dir))).toBe(false);
  });
});
