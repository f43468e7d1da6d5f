// The API key in the system keyring, end to end: the built CLI against a real GNOME Keyring
// in a private D-Bus session of each test's own (test/support/keyring-session.ts), never
// the developer's, and against the keyring's failures: no bus, a stale bus address, a bus
// without a Secret Service, a locked keyring, a frozen daemon or bus, a daemon gone, kill -9,
// Ctrl-C.
//
// shared/CLI.md, "Storage": `keyring` keeps the key in the Secret Service (service `kash`,
// `username` the profile's keyringId) and the rest in the store file; `auto` falls back to
// the file, loudly, only when no secret store is there at all; a locked one is exit 6,
// never a silent downgrade; every keyring call is bounded; `whoami` never touches it.
//
// This is the only suite that reaches a Secret Service: every other one runs with
// KASH_STORAGE=file and no bus (test/support/environment.ts). Every kash run here is given
// the bus it may use (or none) explicitly, so no run can reach a bus of the developer's.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it, vi } from 'vitest';
import { PLATFORM_BINDINGS } from '../../src/store/keyring.js';
import { type KashRun, registerSecret, type StartedKash, useE2e } from '../support/e2e.js';
import { accounts, type Emulator } from '../support/emulator.js';
import { useKeyring, type Where } from '../support/keyring-runs.js';
import { type Bus, type KeyringItem, startBus } from '../support/keyring-session.js';
import { requires } from '../support/requires.js';
import { storeSnapshot } from '../support/store-snapshot.js';

const { demo } = accounts;
const TRACER = resolve(import.meta.dirname, '../support/trace.cjs');
/** The bound of a keyring call with nobody to answer an unlock prompt (CLI.md, "Storage"). */
const BOUND_MS = 3_000;
/** How long the library waits on a frozen daemon before it gives up, measured here (~2.0 s). */
const FROZEN_WAIT_MS = 2_000;
/** What starting node and kash may add to a run on two busy cores. */
const START_SLACK_MS = 1_500;

// Spawning node costs a few hundred ms of CPU; on two busy cores a test of several spawns needs room.
vi.setConfig({ testTimeout: 30_000 });

const e2e = useE2e({ realKeyring: true });
const { session, kash, keyLogin } = useKeyring(e2e);

/** A run, with the time it took from now. */
async function withTime(run: Promise<KashRun>): Promise<KashRun & { ms: number }> {
  const started = Date.now();
  return { ...(await run), ms: Date.now() - started };
}

/** `kash` on the bus that `where` names, with the time it took. */
const timed = (where: Where, dir: string, args: string[]) => withTime(kash(where, dir, args));

let keys = 0;
/** A new API key, registered so that a run printing it anywhere but stdout fails. */
function newKey(): string {
  const key = `keyring-test-key-${process.pid}-${++keys}-${Math.random().toString(36).slice(2, 10)}`;
  registerSecret(key, `keyring test key #${keys}`, { stdoutAllowed: true });
  return key;
}

/** A password login of `demo`, on `emulator` when given. */
function passwordLogin(where: Where, dir: string, extra: string[] = [], emulator?: Emulator): Promise<KashRun> {
  return kash(where, dir, ['login', '--login', demo.login, '--password-stdin', ...extra], {
    input: `${demo.password}\n`,
    emulator,
  });
}

const timedLogin = (where: Where, dir: string, extra: string[], emulator: Emulator) =>
  withTime(passwordLogin(where, dir, extra, emulator));

interface Saved {
  storage: 'keyring' | 'file';
  keyringId?: string;
  apiKey?: string;
  shopId: string;
}

/** A session of its own, and a folder whose default profile keeps `key` there; `before` is the folder as saved. */
async function keyringProfile() {
  const keyring = await session();
  const dir = e2e.freshDir();
  const key = newKey();
  await keyLogin(keyring.env, dir, key, ['--storage', 'keyring']);
  return { keyring, dir, key, before: storeSnapshot(dir) };
}

/** The store file's record of a profile's credentials, undefined when it has none. */
function saved(dir: string, profile = 'default'): Saved | undefined {
  const file = join(dir, 'credentials.json');
  if (!existsSync(file)) return undefined;
  const data = JSON.parse(readFileSync(file, 'utf8')) as { profiles: Record<string, { credentials?: Saved }> };
  return data.profiles[profile]?.credentials;
}

/** The key printed by `kash env --format json`, which must succeed. */
async function envKey(where: Where, dir: string, extra: string[] = []): Promise<string> {
  const run = await kash(where, dir, ['env', '--format', 'json', ...extra]);
  expect(run.code, run.stderr).toBe(0);
  return (JSON.parse(run.stdout) as { KASH_APIKEY: string }).KASH_APIKEY;
}

/** Every file under `dir`, at any depth, whose bytes hold `text`. */
function filesHolding(dir: string, text: string): string[] {
  const found: string[] = [];
  const needle = Buffer.from(text);
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (readFileSync(path).includes(needle)) found.push(path);
    }
  };
  walk(dir);
  return found;
}

/** Resolves once the run has said `what` on stderr, or has ended. */
function saying(started: StartedKash, what: RegExp): Promise<unknown> {
  let said = '';
  return Promise.race([
    started.result,
    new Promise<void>((resolve) =>
      started.child.stderr.on('data', (chunk: string) => {
        said += chunk;
        if (what.test(said)) resolve();
      }),
    ),
  ]);
}

const usernames = (items: KeyringItem[]) => items.map((item) => item.attributes.username).sort();

/** No bus at all: no address, and a runtime folder with no `bus` socket in it (libdbus looks there too). */
const noBus = (): Where => ({
  DBUS_SESSION_BUS_ADDRESS: undefined,
  XDG_RUNTIME_DIR: e2e.tempDir('runtime-'),
  DISPLAY: undefined,
  WAYLAND_DISPLAY: undefined,
});

/** The address of a bus that was there and is no longer. */
async function staleBus(): Promise<Where> {
  const bus = await startBus(e2e.tempDir('bus-'));
  await bus.stop();
  return bus.env;
}

/** A bus that works but on which no Secret Service runs, nor can be started. */
async function busWithoutSecrets(): Promise<Bus> {
  return startBus(e2e.tempDir('bus-'));
}

const keyringSuite = requires('gnome-keyring', 'dbus', 'secret-tool');

keyringSuite.describe.concurrent('the API key in a real GNOME Keyring', () => {
  it('round trip: a keyring login keeps the key in the keyring alone; env prints it, loading the keyring library and starting no process; whoami names the keyring, shows no key and loads no keyring library (the tracer sees it); logout removes the item with the profile', async () => {
    const keyring = await session();
    const dir = e2e.freshDir();
    const login = await passwordLogin(keyring.env, dir, ['--storage', 'keyring']);
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toBe('');
    expect(login.stderr).toMatch(/saved as profile "default" in the system keyring/);

    const record = saved(dir)!;
    expect(record).toMatchObject({ storage: 'keyring', shopId: demo.shopId });
    expect(record).not.toHaveProperty('apiKey');
    expect(record.keyringId).toEqual(expect.any(String));

    /** The run, traced, with the keyring modules it loaded. */
    const traced = async (args: string[]) => {
      const trace = join(e2e.tempDir('trace-'), 'trace.jsonl');
      const run = await e2e.kash(dir, args, {
        nodeArgs: ['--require', TRACER],
        env: { ...keyring.env, KASH_STORAGE: undefined, KASH_TRACE: trace },
      });
      expect(run.code, run.stderr).toBe(0);
      const events = readFileSync(trace, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { kind: string; detail: string });
      const modules = events
        .filter((event) => event.kind === 'module' && /keyring/i.test(event.detail))
        .map((event) => event.detail.replace(/^.*\/node_modules\//, ''));
      const processes = events.filter((event) => event.kind === 'process').map((event) => event.detail);
      return { ...run, modules, processes };
    };

    expect(await envKey(keyring.env, dir)).toBe(demo.apiKey);
    const sh = await traced(['env']);
    expect(sh.stdout).toContain(`export KASH_APIKEY='${demo.apiKey}'`);
    // The platform's binary itself, without the library's loader, which costs as much as the read.
    const binary = PLATFORM_BINDINGS[`${process.platform}-${process.arch}`];
    expect(
      sh.modules.some((module) => module.startsWith(`${binary}/`)),
      JSON.stringify(sh.modules),
    ).toBe(true);
    expect(sh.modules.filter((module) => module.startsWith('@napi-rs/keyring/'))).toEqual([]);
    // A read is bounded by kash's own timers, the library connecting off its main thread: no watchdog.
    expect(sh.processes).toEqual([]);

    const whoami = await traced(['whoami', '--json']);
    expect(JSON.parse(whoami.stdout)).toMatchObject({
      profile: 'default',
      source: 'store',
      storage: 'keyring',
      shopId: demo.shopId,
      apiKeyMasked: null,
    });
    expect(whoami.stdout).not.toContain(demo.apiKey);
    expect(whoami.modules).toEqual([]);
    const table = await traced(['whoami']);
    expect(table.stdout).toMatch(/in the keyring/);
    expect(table.modules).toEqual([]);

    // Not in the store, its lock, or any other file kash keeps.
    expect(readdirSync(dir).length).toBeGreaterThan(0);
    expect(filesHolding(dir, demo.apiKey)).toEqual([]);

    // The item, as another Secret Service client sees it: service kash, username the keyringId.
    const items = await keyring.items();
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      secret: demo.apiKey,
      attributes: { service: 'kash', username: record.keyringId },
    });

    const logout = await kash(keyring.env, dir, ['logout']);
    expect(logout.code, logout.stderr).toBe(0);
    expect(await keyring.items()).toEqual([]);
    expect(saved(dir)).toBeUndefined();
  });

  it('auto picks a working keyring; --storage file keeps the key in the file; a new login replaces the item; moving to file removes it', async () => {
    const keyring = await session();
    const dir = e2e.freshDir();
    const [first, inFile, second, moved] = [newKey(), newKey(), newKey(), newKey()];

    const auto = await keyLogin(keyring.env, dir, first, ['--storage', 'auto']);
    expect(auto.stderr).not.toMatch(/plain text/);
    const firstId = saved(dir)!.keyringId!;
    expect(saved(dir)).toMatchObject({ storage: 'keyring' });
    expect(usernames(await keyring.items())).toEqual([firstId]);

    // Another profile, in the file: the key there, no item for it (the probe's own is gone too).
    await keyLogin(keyring.env, dir, inFile, ['--storage', 'file', '--profile', 'plain']);
    expect(saved(dir, 'plain')).toMatchObject({ storage: 'file', apiKey: inFile });
    expect(statSync(join(dir, 'credentials.json')).mode & 0o777).toBe(0o600);
    expect(usernames(await keyring.items())).toEqual([firstId]);
    expect(await envKey(keyring.env, dir, ['--profile', 'plain'])).toBe(inFile);

    // A new login keeps the profile in the keyring (no --storage): a new item, the old one removed.
    await keyLogin(keyring.env, dir, second);
    const secondId = saved(dir)!.keyringId!;
    expect(secondId).not.toBe(firstId);
    const items = await keyring.items();
    expect(usernames(items)).toEqual([secondId]);
    expect(items[0]!.secret).toBe(second);
    expect(await envKey(keyring.env, dir)).toBe(second);

    // Moving the profile to the file deletes its item.
    await keyLogin(keyring.env, dir, moved, ['--storage', 'file']);
    expect(saved(dir)).toMatchObject({ storage: 'file', apiKey: moved });
    expect(await keyring.items()).toEqual([]);
    expect(await envKey(keyring.env, dir)).toBe(moved);
  });

  it('a frozen daemon (SIGSTOP): env ends within the bound, never "not logged in"; whoami answers at once; logout is exit 6 and keeps the profile', async () => {
    const { keyring, dir, key, before } = await keyringProfile();

    keyring.freeze();
    let env: KashRun & { ms: number };
    let whoami: KashRun & { ms: number };
    let logout: KashRun & { ms: number };
    try {
      [env, whoami, logout] = await Promise.all([
        timed(keyring.env, dir, ['env']),
        timed(keyring.env, dir, ['whoami', '--json']),
        timed(keyring.env, dir, ['logout']),
      ]);
    } finally {
      keyring.thaw();
    }

    // Exit 6 when the library gives up first (~2 s here), or 137 (SIGKILL) when kash ends itself at the bound.
    expect(env.ms, env.stderr).toBeLessThan(BOUND_MS + START_SLACK_MS);
    expect(env.stdout).toBe('');
    expect(env.stderr).not.toMatch(/not logged in/);
    // Said after a second, by kash's own timers: a read leaves its main thread free.
    expect(env.stderr).toMatch(/^Waiting for the system keyring/m);
    if (env.signal === null) {
      expect(env.code, env.stderr).toBe(6);
      expect(env.stderr).toMatch(/^error: .*keyring/m);
    } else {
      expect(env.signal).toBe('SIGKILL');
      expect(env.stderr).toMatch(/did not answer within 3 s/);
    }

    // A whoami that touched the keyring would have waited for it: the library alone waits
    // ~2 s on a frozen daemon, start-up comes on top. Typically ~0.5 s here.
    expect(whoami.code, whoami.stderr).toBe(0);
    expect(whoami.ms, `whoami took ${whoami.ms} ms`).toBeLessThan(FROZEN_WAIT_MS);
    expect(JSON.parse(whoami.stdout)).toMatchObject({ storage: 'keyring', apiKeyMasked: null });

    expect(logout.ms, logout.stderr).toBeLessThan(BOUND_MS + START_SLACK_MS);
    expect(logout.signal === 'SIGKILL' || logout.code === 6, logout.stderr).toBe(true);
    expect(logout.stderr).toMatch(/keyring/);
    expect(storeSnapshot(dir)).toEqual(before);

    console.info(
      `frozen keyring: env ${env.signal ?? `exit ${env.code}`} after ${env.ms} ms, ` +
        `logout ${logout.signal ?? `exit ${logout.code}`} after ${logout.ms} ms, whoami ${whoami.ms} ms`,
    );

    // Thawed, nothing was lost: the item is there and env gives the key.
    expect(usernames(await keyring.items())).toEqual([saved(dir)!.keyringId]);
    expect(await envKey(keyring.env, dir)).toBe(key);
  });

  it('a frozen bus (SIGSTOP of its dbus-daemon), which the library waits on for ever: env, logout and a login end at the 3 s bound, saying so; nothing sent, nothing changed', async () => {
    const { keyring, dir, key, before } = await keyringProfile();
    const emulator = await e2e.startEmulator();

    keyring.freezeBus();
    let runs: Array<KashRun & { ms: number }>;
    try {
      runs = await Promise.all([
        timed(keyring.env, dir, ['env']),
        timed(keyring.env, dir, ['logout']),
        timedLogin(keyring.env, dir, [], emulator),
      ]);
    } finally {
      keyring.thawBus();
    }
    for (const run of runs) {
      // kash's own bound ends it: the library never gives up on a bus that accepted the connection.
      expect(run.signal, run.stderr).toBe('SIGKILL');
      expect(run.stderr).toMatch(/^Waiting for the system keyring/m);
      expect(run.stderr).toMatch(/^error: the system keyring did not answer within 3 s$/m);
      expect(run.stderr).not.toMatch(/not logged in|plain text/);
      expect(run.stdout).toBe('');
      expect(run.ms, run.stderr).toBeGreaterThanOrEqual(BOUND_MS);
      expect(run.ms, run.stderr).toBeLessThan(BOUND_MS + START_SLACK_MS);
    }
    expect(emulator.requests).toEqual([]);
    expect(storeSnapshot(dir)).toEqual(before);
    expect(await envKey(keyring.env, dir)).toBe(key);
  });

  it('a frozen bus with nobody reading stderr any more: kash still ends at the bound (the watchdog outlives a broken pipe)', async () => {
    const { keyring, dir, before } = await keyringProfile();

    keyring.freezeBus();
    let run: KashRun & { ms: number };
    try {
      // logout reaches the keyring through an entry, whose constructor holds kash's main
      // thread on a frozen bus: only the watchdog beside it can end it.
      const started = e2e.start(dir, ['logout'], { env: keyring.env });
      started.child.stderr.destroy();
      run = await withTime(started.result);
    } finally {
      keyring.thawBus();
    }
    expect(run.signal).toBe('SIGKILL');
    expect(run.ms).toBeGreaterThanOrEqual(BOUND_MS);
    expect(run.ms).toBeLessThan(BOUND_MS + START_SLACK_MS);
    expect(storeSnapshot(dir)).toEqual(before);
  });

  it('Ctrl-C while kash waits on the keyring, from the terminal (its whole process group) or to kash alone, says "cancelled" and ends kash at once (the shell sees 137), the store and the keyring as they were', async () => {
    const { keyring, dir, key, before } = await keyringProfile();
    const items = await keyring.items();

    keyring.freezeBus();
    let runs: Array<KashRun & { what: string; afterSignalMs: number }>;
    try {
      const env = { ...keyring.env, KASH_STORAGE: undefined };
      const login = ['login', '--api-key-stdin', '--shop-id', '9'];
      // A read waits with kash's main thread free; the auto probe of a login, in the
      // library's constructor on that thread, where only the watchdog beside kash can act.
      const cases = [
        { what: 'env, kill -INT of kash', args: ['env'], group: false },
        { what: 'env, Ctrl-C', args: ['env'], group: true },
        { what: 'login, Ctrl-C', args: login, group: true },
      ];
      runs = await Promise.all(
        cases.map(async ({ what, args, group }) => {
          const run = e2e.start(dir, args, { env, input: `${newKey()}\n`, ownGroup: true });
          await saying(run, /Waiting for the system keyring/);
          const signalled = Date.now();
          process.kill(group ? -run.child.pid! : run.child.pid!, 'SIGINT');
          return { ...(await run.result), what, afterSignalMs: Date.now() - signalled };
        }),
      );
    } finally {
      keyring.thawBus();
    }
    for (const run of runs) {
      const seen = `${run.what}: ${run.signal ?? `exit ${run.code}`}\n${run.stderr}`;
      expect(run.signal, seen).toBe('SIGKILL');
      expect(run.afterSignalMs, seen).toBeLessThan(1_000);
      expect(run.stderr, seen).toMatch(/^error: cancelled; nothing was changed$/m);
      expect(run.stderr, seen).not.toMatch(/did not answer/);
      expect(run.stdout).toBe('');
    }
    expect(storeSnapshot(dir)).toEqual(before);
    expect(await keyring.items()).toEqual(items);
    expect(await envKey(keyring.env, dir)).toBe(key);
  });

  it('otp consume onto a keyring profile proves the keyring takes a write before spending the code: a locked one is exit 6 with nothing sent, and the code still works', async () => {
    const keyring = await session();
    const emulator = await e2e.startEmulator();
    const dir = e2e.freshDir();
    await keyLogin(keyring.env, dir, newKey(), ['--storage', 'keyring']);
    await keyring.lock();
    const before = storeSnapshot(dir);
    const code = emulator.issueCode(demo.login);
    registerSecret(code, 'the code emailed to demo');
    const consume = ['otp', 'consume', '--email', demo.login, '--otp', code];

    // The profile's own storage, the keyring, as no --storage says.
    const run = await kash(keyring.env, dir, consume, { emulator });
    if (run.signal === null) {
      expect(run.code, run.stderr).toBe(6);
      expect(run.stderr).toMatch(/^error: the system keyring failed: .*(locked|dismissed)/m);
    } else {
      // An unlock prompt left unanswered: kash ends itself at the bound, still before the code.
      expect(run.signal, run.stderr).toBe('SIGKILL');
      expect(run.stderr).toMatch(/did not answer within 3 s/);
    }
    expect(run.stderr).not.toMatch(/plain text/);
    expect(emulator.requests).toEqual([]);
    expect(storeSnapshot(dir)).toEqual(before);

    const spent = await kash(keyring.env, dir, [...consume, '--storage', 'file', '--profile', 'plain'], { emulator });
    expect(spent.code, spent.stderr).toBe(0);
    expect(saved(dir, 'plain')).toMatchObject({ storage: 'file', apiKey: demo.apiKey });
  });

  it('a daemon gone from the bus: env and logout are exit 6 saying so, never "not logged in"; the profile is kept', async () => {
    const keyring = await session();
    const dir = e2e.freshDir();
    await keyLogin(keyring.env, dir, newKey(), ['--storage', 'keyring']);
    const before = storeSnapshot(dir);
    await keyring.killDaemon();

    const [env, logout] = await Promise.all([kash(keyring.env, dir, ['env']), kash(keyring.env, dir, ['logout'])]);
    expect(env.code, env.stderr).toBe(6);
    expect(env.stdout).toBe('');
    expect(env.stderr).toMatch(/keeps its key in the system keyring, but none answers/);
    expect(env.stderr).not.toMatch(/not logged in/);
    expect(logout.code, logout.stderr).toBe(6);
    expect(logout.stderr).toMatch(/could not remove the key of profile "default" from the system keyring.*kept/);
    expect(storeSnapshot(dir)).toEqual(before);
  });

  it.for([
    ['no bus', /no D-Bus session/],
    ['a stale bus address', /the D-Bus session bus does not answer/],
    ['a bus without a Secret Service', /no Secret Service on the D-Bus session/],
  ] as const)(
    '%s: auto falls back to the file, saying why, where and "plain text"; --storage keyring is exit 6 with nothing sent; a keyring profile\'s read is exit 6 saying why',
    async ([situation, reason]) => {
      const where =
        situation === 'no bus'
          ? noBus()
          : situation === 'a stale bus address'
            ? await staleBus()
            : (await busWithoutSecrets()).env;
      const emulator = await e2e.startEmulator();

      const strict = e2e.freshDir();
      const refused = await passwordLogin(where, strict, ['--storage', 'keyring'], emulator);
      expect(refused.code, refused.stderr).toBe(6);
      expect(refused.stderr).toMatch(/^error: no system keyring answers/m);
      expect(refused.stderr).toMatch(reason);
      expect(emulator.requests).toEqual([]);
      expect(saved(strict)).toBeUndefined();

      const dir = e2e.freshDir();
      const file = join(dir, 'credentials.json');
      const auto = await passwordLogin(where, dir, ['--storage', 'auto'], emulator);
      expect(auto.code, auto.stderr).toBe(0);
      const warning = auto.stderr.split('\n').find((line) => /plain text/.test(line));
      expect(warning, auto.stderr).toBeDefined();
      expect(warning).toMatch(/^warning: /);
      expect(warning).toMatch(reason);
      expect(warning).toContain(file);
      expect(saved(dir)).toMatchObject({ storage: 'file', apiKey: demo.apiKey });
      expect(emulator.requests).toHaveLength(1);

      // The default is auto: the same without --storage.
      const byDefault = e2e.freshDir();
      const plain = await passwordLogin(where, byDefault, [], emulator);
      expect(plain.code, plain.stderr).toBe(0);
      expect(plain.stderr).toMatch(/plain text/);
      expect(saved(byDefault)).toMatchObject({ storage: 'file' });

      // A keyring profile read there: exit 6 saying why, never "not logged in".
      const kept = e2e.freshDir();
      await keyLogin((await session()).env, kept, newKey(), ['--storage', 'keyring']);
      const read = await kash(where, kept, ['env']);
      expect(read.code, read.stderr).toBe(6);
      expect(read.stdout).toBe('');
      expect(read.stderr).toMatch(/keeps its key in the system keyring, but none answers/);
      expect(read.stderr).toMatch(reason);
    },
  );

  it('a locked keyring (no display to ask on): auto and keyring logins are exit 6 (or end themselves at the bound) with nothing sent, never a silent downgrade; env is exit 6', async () => {
    const keyring = await session();
    const emulator = await e2e.startEmulator();
    const dir = e2e.freshDir();
    await keyLogin(keyring.env, dir, newKey(), ['--storage', 'keyring']);
    await keyring.lock();
    const before = storeSnapshot(dir);

    // One at a time: each unlock prompt is dismissed at once (there is no display), exit 6.
    const cases = [
      { dir, args: ['--storage', 'auto', '--profile', 'new'] },
      { dir, args: ['--storage', 'keyring', '--profile', 'new'] },
      // The profile's own storage, the keyring, as no --storage says.
      { dir, args: [] },
      // A new profile, nothing said: auto.
      { dir: e2e.freshDir(), args: [] },
    ];
    for (const { dir: where, args } of cases) {
      const run = await passwordLogin(keyring.env, where, args, emulator);
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(6);
      expect(run.stderr).toMatch(/^error: the system keyring failed: .*(locked|dismissed)/m);
      expect(run.stderr).not.toMatch(/plain text/);
    }
    expect(emulator.requests).toEqual([]);

    const env = await kash(keyring.env, dir, ['env']);
    expect(env.code, env.stderr).toBe(6);
    // A locked keyring gives a search no secret: the read asks for an unlock instead, as a login does.
    expect(env.stderr).toMatch(/^error: the system keyring failed: .*unlock prompt was dismissed/m);
    expect(env.stderr).not.toMatch(/not logged in/);
    expect(storeSnapshot(dir)).toEqual(before);

    // Logins at once: some of their prompts may never be answered (here, about half of four
    // at once were not), and such a login must end itself at the bound, still never falling
    // back. Last, as the daemon may be left waiting on those prompts.
    const together = await Promise.all(
      ['auto', 'keyring', 'auto'].map((mode) => timedLogin(keyring.env, e2e.freshDir(), ['--storage', mode], emulator)),
    );
    for (const run of together) {
      expect(run.ms, run.stderr).toBeLessThan(BOUND_MS + START_SLACK_MS);
      expect(run.stderr).not.toMatch(/plain text/);
      if (run.signal === null) {
        expect(run.code, run.stderr).toBe(6);
        expect(run.stderr).toMatch(/locked|dismissed/);
      } else {
        expect(run.signal, run.stderr).toBe('SIGKILL');
        expect(run.stderr).toMatch(/did not answer within 3 s/);
      }
    }
    expect(emulator.requests).toEqual([]);
    console.info(
      `locked keyring, three logins at once: ${together.map((run) => `${run.signal ?? `exit ${run.code}`} after ${run.ms} ms`).join(', ')}`,
    );
  });

  it('kill -9 of a keyring login at random moments leaves credentials that work', async () => {
    const keyring = await session();
    const dir = e2e.freshDir();
    let current = newKey();
    await keyLogin(keyring.env, dir, current, ['--storage', 'keyring']);

    /** How long an unkilled login took, last time one finished (the first, cold one is slower). */
    let loginMs = 400;
    const rounds: string[] = [];
    let killed = 0;
    // At least 4 kills that landed, in at most 10 rounds.
    for (let round = 0; round < 10 && killed < 4; round++) {
      const next = newKey();
      const delay = Math.round(loginMs * (0.2 + 0.8 * Math.random()));
      const login = e2e.start(dir, ['login', '--api-key-stdin', '--shop-id', '9'], {
        input: `${next}\n`,
        env: { ...keyring.env, KASH_STORAGE: undefined },
      });
      await sleep(delay);
      login.child.kill('SIGKILL');
      const run = await login.result;
      const label = `round ${round}, killed after ${delay} ms`;
      if (run.signal === null) {
        expect(run.code, `${label}: ${run.stderr}`).toBe(0);
        loginMs = Date.now() - login.startedAt;
      } else {
        expect(run.signal, label).toBe('SIGKILL');
        killed++;
      }

      const key = await envKey(keyring.env, dir);
      expect([current, next], label).toContain(key);
      if (run.code === 0) expect(key, `${label}: it finished`).toBe(next);
      const items = await keyring.items();
      expect(usernames(items), label).toContain(saved(dir)!.keyringId);
      rounds.push(
        `${delay} ms: ${run.signal ?? `exit ${run.code}`}, ${key === next ? 'new' : 'old'} key, ${items.length} item(s)`,
      );
      current = key;
    }
    expect(killed, rounds.join('; ')).toBeGreaterThanOrEqual(4);
    expect(saved(dir)).toMatchObject({ storage: 'keyring' });
    // Items of killed logins may be left beside the one the store names (written before the
    // file named them, or not yet deleted after it stopped naming them): never the other way.
    console.info(`kill -9 of keyring logins (an unkilled one takes ~${loginMs} ms): ${rounds.join('; ')}`);
  });

  it("several keyring profiles and an item no profile names: each read gives its own profile's key and never another item's", async () => {
    const keyring = await session();
    const dir = e2e.freshDir();
    const keys = { default: newKey(), shop2: newKey(), shop3: newKey() };
    for (const [profile, key] of Object.entries(keys))
      await keyLogin(keyring.env, dir, key, ['--storage', 'keyring', '--profile', profile]);
    const strayKey = newKey();
    await keyring.put(`kash-${'0'.repeat(8)}-stray`, strayKey);
    expect(await keyring.items()).toHaveLength(4);

    const reads = await Promise.all(
      Object.keys(keys).map(async (profile) => [profile, await envKey(keyring.env, dir, ['--profile', profile])]),
    );
    expect(Object.fromEntries(reads)).toEqual(keys);
    const exec = await kash(keyring.env, dir, [
      'exec',
      '--profile',
      'shop2',
      '--',
      'sh',
      '-c',
      'printf %s "$KASH_APIKEY"',
    ]);
    expect(exec.code, exec.stderr).toBe(0);
    expect(exec.stdout).toBe(keys.shop2);
    expect(exec.stdout).not.toContain(strayKey);
  });

  it('each run reaches the bus it is given and no other; a profile whose item is missing there is exit 6, not "not logged in"', async () => {
    const [one, two] = await Promise.all([session(), session()]);
    const dir = e2e.freshDir();
    await keyLogin(one.env, dir, newKey(), ['--storage', 'keyring']);
    expect(await one.items()).toHaveLength(1);
    expect(await two.items()).toEqual([]);
    const elsewhere = await kash(two.env, dir, ['env']);
    expect(elsewhere.code, elsewhere.stderr).toBe(6);
    expect(elsewhere.stderr).toMatch(/the key of profile "default" is missing from the system keyring/);
    expect(elsewhere.stderr).toMatch(/kash login/);
    expect(elsewhere.stderr).not.toMatch(/not logged in/);
  });
});
