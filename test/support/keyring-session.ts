// A real Secret Service for the keyring suite, private to one test: a D-Bus session bus of
// its own and a GNOME Keyring daemon on it, unlocked with a password given on stdin, with a
// fresh HOME and XDG folders, so that nothing reaches a developer's own keyring.
//
//   const session = await startKeyringSession(e2e.tempDir('keyring-'));
//   await e2e.kash(dir, ['login', …], { env: session.env });   // kash sees this bus only
//   await session.items()                                      // secret-tool search --all service kash
//   session.freeze(); …; session.thaw();                       // SIGSTOP / SIGCONT of the daemon, by its PID
//   session.freezeBus(); …; session.thawBus();                 // the same of the bus itself
//   await session.lock();  await session.killDaemon();         // locked; gone (the bus stays)
//
// The bus's configuration names no service directories, so nothing on it is ever
// activated: the daemon started here is the only Secret Service there is, a killed one is
// not replaced by a fresh one, and no unlock prompt can be shown (it is dismissed at once).
// Every process started here is ended by stopAllKeyringSessions(), or when this process
// exits, frozen ones included.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One item of service `kash`, as secret-tool shows it. */
export interface KeyringItem {
  /** Its D-Bus object path. */
  path: string;
  label: string;
  secret: string;
  /** Its attributes: `service`, `username`… */
  attributes: Record<string, string>;
}

export interface Bus {
  /** DBUS_SESSION_BUS_ADDRESS. */
  address: string;
  pid: number;
  /** The folder its processes live in (HOME, XDG folders, the bus configuration). */
  dir: string;
  /** The variables for a kash run on this bus: its address, a runtime folder of its own, no display. */
  env: Record<string, string | undefined>;
  /** SIGSTOP: a client's connection is accepted by the kernel, then nothing answers it, ever. */
  freezeBus(): void;
  /** SIGCONT. */
  thawBus(): void;
  stop(): Promise<void>;
}

export interface KeyringSession extends Bus {
  /** The gnome-keyring-daemon that owns org.freedesktop.secrets on the bus. */
  daemonPid: number;
  /** The password that unlocked the login keyring. */
  password: string;
  /** Locks the login keyring (over D-Bus); with no prompt possible, it stays locked. */
  lock(): Promise<void>;
  /** SIGSTOP: the daemon holds the bus name but answers nothing. */
  freeze(): void;
  /** SIGCONT. */
  thaw(): void;
  /** Kills the daemon: the bus stays, with no Secret Service on it. */
  killDaemon(): Promise<void>;
  /** kash's items: `secret-tool search --all service kash`. */
  items(): Promise<KeyringItem[]>;
  /** An item of service kash that no profile names, as another client (or a killed login) leaves one. */
  put(username: string, secret: string): Promise<void>;
}

const running = new Set<ChildProcess>();

process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Ends every bus and daemon still running (thawing none: SIGKILL reaches a stopped process). */
export async function stopAllKeyringSessions(): Promise<void> {
  await Promise.all([...running].map((child) => end(child)));
}

function end(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    running.delete(child);
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    child.once('exit', () => {
      running.delete(child);
      resolve();
    });
    child.kill(signal);
  });
}

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end (killed after 10 s), with the given environment and input only. */
function run(file: string, args: string[], env: Record<string, string>, input?: string): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.end(input);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const BUS_CONFIG = (listen: string) => `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>${listen}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`;

/** The environment of the bus, the daemon and secret-tool: these folders and this bus, nothing of the caller's. */
function ownEnv(dir: string, address?: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LANG: 'C.UTF-8',
    HOME: join(dir, 'home'),
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_CACHE_HOME: join(dir, 'cache'),
    XDG_DATA_HOME: join(dir, 'data'),
    XDG_RUNTIME_DIR: join(dir, 'runtime'),
    ...(address !== undefined && { DBUS_SESSION_BUS_ADDRESS: address }),
  };
}

/**
 * A session bus of its own in `dir` (an empty folder), on which nothing can be activated.
 * Its socket is in `dir` when the path is short enough for a socket, else in the system's
 * temporary folder.
 */
export async function startBus(dir: string): Promise<Bus> {
  for (const sub of ['home', 'config', 'cache', 'data', 'runtime']) mkdirSync(join(dir, sub), { mode: 0o700 });
  const listen = dir.length < 80 ? `unix:dir=${dir}` : `unix:tmpdir=${tmpdir()}`;
  const config = join(dir, 'bus.conf');
  writeFileSync(config, BUS_CONFIG(listen));
  const child = spawn('dbus-daemon', [`--config-file=${config}`, '--nofork', '--print-address=1'], {
    env: ownEnv(dir),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`dbus-daemon gave no address within 5 s: ${err}`)), 5_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const line = out.split('\n');
      if (line.length > 1) {
        clearTimeout(timer);
        resolve(line[0]!.trim());
      }
    });
    // It says, for one, that it may not raise its file limit; only its exit matters.
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`dbus-daemon ended (${signal ?? `exit ${code}`}) before giving its address: ${err}`));
    });
  });
  return {
    address,
    pid: child.pid!,
    dir,
    env: {
      DBUS_SESSION_BUS_ADDRESS: address,
      XDG_RUNTIME_DIR: join(dir, 'runtime'),
      DISPLAY: undefined,
      WAYLAND_DISPLAY: undefined,
    },
    freezeBus: () => process.kill(child.pid!, 'SIGSTOP'),
    thawBus: () => process.kill(child.pid!, 'SIGCONT'),
    stop: () => end(child, 'SIGTERM'),
  };
}

/** `dbus-send --session --print-reply` on `bus`; its reply, or an error naming the call. */
async function dbusSend(bus: Bus, args: string[]): Promise<string> {
  const ran = await run('dbus-send', ['--session', '--print-reply', ...args], ownEnv(bus.dir, bus.address));
  if (ran.code !== 0) throw new Error(`dbus-send ${args.join(' ')}: exit ${ran.code}: ${ran.stderr.trim()}`);
  return ran.stdout;
}

/** The PID of the process that owns `name` on the bus, or undefined when none does. */
async function ownerPid(bus: Bus, name: string): Promise<number | undefined> {
  const dbus = ['--dest=org.freedesktop.DBus', '/org/freedesktop/DBus'];
  const has = await dbusSend(bus, [...dbus, 'org.freedesktop.DBus.NameHasOwner', `string:${name}`]);
  if (!/boolean true/.test(has)) return undefined;
  const pid = await dbusSend(bus, [...dbus, 'org.freedesktop.DBus.GetConnectionUnixProcessID', `string:${name}`]);
  return Number(/uint32 (\d+)/.exec(pid)?.[1]);
}

const SECRETS = 'org.freedesktop.secrets';
const LOGIN = '/org/freedesktop/secrets/collection/login';

/**
 * A bus of its own in `dir` (an empty folder) and a GNOME Keyring on it, its login keyring
 * created and unlocked with a password on stdin; resolves once the daemon owns the Secret
 * Service's name.
 */
export async function startKeyringSession(dir: string): Promise<KeyringSession> {
  const bus = await startBus(dir);
  const password = 'kash-test-keyring-password';
  const daemon = spawn('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets'], {
    env: ownEnv(dir, bus.address),
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  running.add(daemon);
  let daemonErr = '';
  daemon.stderr.setEncoding('utf8').on('data', (chunk: string) => (daemonErr += chunk));
  daemon.stdin.on('error', () => undefined);
  daemon.stdin.end(password);

  const deadline = Date.now() + 5_000;
  for (;;) {
    if (daemon.exitCode !== null || daemon.signalCode !== null)
      throw new Error(`gnome-keyring-daemon ended before owning ${SECRETS}: ${daemonErr}`);
    const owner = await ownerPid(bus, SECRETS);
    if (owner === daemon.pid) break;
    if (owner !== undefined) throw new Error(`${SECRETS} is owned by PID ${owner}, not by the daemon started here`);
    if (Date.now() > deadline) throw new Error(`gnome-keyring-daemon did not own ${SECRETS} within 5 s: ${daemonErr}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }

  const locked = async () =>
    /boolean true/.test(
      await dbusSend(bus, [
        `--dest=${SECRETS}`,
        LOGIN,
        'org.freedesktop.DBus.Properties.Get',
        'string:org.freedesktop.Secret.Collection',
        'string:Locked',
      ]),
    );
  if (await locked()) throw new Error('the login keyring is locked although it was unlocked with its password');

  return {
    ...bus,
    daemonPid: daemon.pid!,
    password,
    async lock() {
      await dbusSend(bus, [
        `--dest=${SECRETS}`,
        '/org/freedesktop/secrets',
        'org.freedesktop.Secret.Service.Lock',
        `array:objpath:${LOGIN}`,
      ]);
      if (!(await locked())) throw new Error('the login keyring is still unlocked after Lock');
    },
    freeze: () => process.kill(daemon.pid!, 'SIGSTOP'),
    thaw: () => process.kill(daemon.pid!, 'SIGCONT'),
    killDaemon: () => end(daemon),
    async items() {
      const ran = await run('secret-tool', ['search', '--all', 'service', 'kash'], ownEnv(dir, bus.address));
      // No match is exit 1 with nothing printed; anything else is a failure to say.
      if (ran.code !== 0 && !(ran.code === 1 && ran.stdout === '' && ran.stderr === ''))
        throw new Error(`secret-tool search: exit ${ran.code}: ${ran.stderr.trim()}`);
      return parseItems(ran.stdout, ran.stderr);
    },
    async put(username, secret) {
      const args = ['store', '--label', 'not a profile', 'service', 'kash', 'username', username];
      const ran = await run('secret-tool', args, ownEnv(dir, bus.address), secret);
      if (ran.code !== 0) throw new Error(`secret-tool store: exit ${ran.code}: ${ran.stderr.trim()}`);
    },
    async stop() {
      await end(daemon);
      await bus.stop();
    },
  };
}

/**
 * secret-tool prints each item's path, label and secret on stdout and its attributes on
 * stderr, item after item: the n-th group of attributes (a group ends where a name comes
 * again) is the n-th item's.
 */
export function parseItems(stdout: string, stderr: string): KeyringItem[] {
  const items: KeyringItem[] = [];
  for (const line of stdout.split('\n')) {
    const path = /^\[(.+)\]$/.exec(line);
    if (path) {
      items.push({ path: path[1]!, label: '', secret: '', attributes: {} });
      continue;
    }
    const field = /^(label|secret) = (.*)$/.exec(line);
    const item = items.at(-1);
    if (field && item) item[field[1] as 'label' | 'secret'] = field[2]!;
  }
  const groups: Array<Record<string, string>> = [];
  for (const line of stderr.split('\n')) {
    const attribute = /^attribute\.([^ ]+) = (.*)$/.exec(line);
    if (!attribute) continue;
    const [, name, value] = attribute as unknown as [string, string, string];
    const group = groups.at(-1);
    if (group === undefined || Object.hasOwn(group, name)) groups.push({ [name]: value });
    else group[name] = value;
  }
  if (groups.length !== items.length)
    throw new Error(`secret-tool showed ${items.length} items but ${groups.length} sets of attributes:\n${stderr}`);
  return items.map((item, i) => ({ ...item, attributes: groups[i]! }));
}
