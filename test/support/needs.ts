// The system tools and capabilities that some tests need, each with the probe that tells
// whether this machine has it. A probe does the real thing (runs the tool, mounts a tmpfs,
// sets the immutable attribute), never infers it from the user id: root in a container
// may lack a capability, and a tool may be on the PATH yet unable to run.
//
// To add a need: one entry in NEEDS, with `tool(…)` for a program that only has to run, or
// `capability(…)` for something the machine must permit. requires.ts and the needs
// reporter pick it up from here.
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';

/** What a probe found. */
export type Probe =
  | { ok: true }
  | {
      ok: false;
      /** One line saying what failed, e.g. `zsh -f -c true: spawn zsh ENOENT`. */
      why: string;
      /** The Debian package to install, when the program itself is missing or cannot run. */
      apt?: string;
      /** What would grant it, when the program is there but the machine refuses. */
      grant?: string;
    };

export interface Need {
  /** A test's `requires(…)` name for it. */
  name: string;
  /** The Debian package of the program it runs (.ci/run installs every one). */
  apt: string;
  /** For a capability: what the machine must grant beyond the program. */
  grant?: string;
  probe(): Promise<Probe>;
}

interface Ran {
  /** The program could not be started at all (absent, or not executable). */
  absent: boolean;
  ok: boolean;
  /** The command line and, on failure, its first line of error. */
  detail: string;
}

/**
 * Runs a command with no input, for at most 10 s. (Not spawn's own `timeout`: its timer
 * outlives a program that could not be started, and would hold the test run open.)
 */
function run(file: string, args: string[]): Promise<Ran> {
  const line = [file, ...args].join(' ');
  return new Promise((resolve) => {
    let output = '';
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const done = (ran: Ran) => {
      clearTimeout(timer);
      resolve(ran);
    };
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (error) => done({ absent: true, ok: false, detail: `${line}: ${error.message}` }));
    child.on('close', (code, signal) => {
      const first = output.trim().split('\n')[0] ?? '';
      const status = signal ? `killed by ${signal}` : `exit ${code}`;
      done({ absent: false, ok: code === 0, detail: `${line}: ${status}${first ? ` (${first})` : ''}` });
    });
  });
}

/** A program that only has to exist and run: missing or failing, the fix is to install it. */
function tool(name: string, args: string[], apt: string, file = name): Need {
  return {
    name,
    apt,
    async probe() {
      const ran = await run(file, args);
      return ran.ok ? { ok: true } : { ok: false, why: ran.detail, apt };
    },
  };
}

/**
 * Something the machine must permit. `attempt` tries it for real and returns the run that
 * decides; a program that cannot be started at all is fixed by installing `apt`, any other
 * failure by what `grant` says.
 */
function capability(name: string, apt: string, grant: string, attempt: () => Promise<Ran>): Need {
  return {
    name,
    apt,
    grant,
    async probe() {
      let ran: Ran;
      try {
        ran = await attempt();
      } catch (error) {
        return { ok: false, why: `${name}: ${(error as Error).message}`, grant };
      }
      if (ran.ok) return { ok: true };
      return ran.absent ? { ok: false, why: ran.detail, apt } : { ok: false, why: ran.detail, grant };
    },
  };
}

/** An IPv4 address of this machine that is not loopback, or undefined when there is none. */
export function lanAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((entry) => entry !== undefined && entry.family === 'IPv4' && !entry.internal)?.address;
}

/** A folder of its own under the temporary folder (where the tests make theirs), removed after `use`. */
async function inScratch(use: (dir: string) => Promise<Ran>): Promise<Ran> {
  const dir = mkdtempSync(join(tmpdir(), 'kash-probe-'));
  try {
    return await use(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const NEEDS = {
  bash: tool('bash', ['-c', 'true'], 'bash'),
  dash: tool('dash', ['-c', 'true'], 'dash'),
  zsh: tool('zsh', ['-f', '-c', 'true'], 'zsh'),
  fish: tool('fish', ['--no-config', '-c', 'true'], 'fish'),
  // util-linux `script`, which gives the interactive tests a real pseudo-terminal.
  script: tool('script', ['-q', '-e', '-c', 'true', '/dev/null'], 'bsdutils'),
  // TINYPROXY names another build, as test/support/tinyproxy.ts honours it.
  tinyproxy: tool('tinyproxy', ['-v'], 'tinyproxy-bin', process.env.TINYPROXY || 'tinyproxy'),
  openssl: tool('openssl', ['version'], 'openssl'),
  /** FIFOs where the store or its lock should be. */
  mkfifo: tool('mkfifo', ['--version'], 'coreutils'),

  /**
   * An address of this machine other than loopback: a service there must go through a
   * proxy, where loopback never does.
   */
  'lan-address': capability(
    'lan-address',
    'iproute2',
    'a network interface with an address other than loopback',
    async () => {
      const found = lanAddress();
      return { absent: false, ok: found !== undefined, detail: found ?? 'no IPv4 address but loopback' };
    },
  ),

  // The keyring suite's real Secret Service (test/support/keyring-session.ts): the daemon,
  // a private session bus (dbus-daemon, and dbus-send to ask it who owns what), and
  // secret-tool to list what kash stored.
  'gnome-keyring': tool('gnome-keyring', ['--version'], 'gnome-keyring', 'gnome-keyring-daemon'),
  dbus: tool(
    'dbus',
    [
      '--',
      'dbus-send',
      '--session',
      '--print-reply',
      '--dest=org.freedesktop.DBus',
      '/org/freedesktop/DBus',
      'org.freedesktop.DBus.Peer.Ping',
    ],
    'dbus',
    'dbus-run-session',
  ),
  // It has no --version; with no arguments it prints its usage and exits 2.
  'secret-tool': {
    name: 'secret-tool',
    apt: 'libsecret-tools',
    async probe() {
      const ran = await run('secret-tool', []);
      return !ran.absent && /exit 2 \(usage: secret-tool/.test(ran.detail)
        ? { ok: true }
        : { ok: false, why: ran.detail, apt: 'libsecret-tools' };
    },
  },

  /** Mounting a tmpfs (a full disk, a read-only file system). */
  mount: capability('mount', 'mount', 'root with CAP_SYS_ADMIN', () =>
    inScratch(async (dir) => {
      const mounted = await run('mount', ['-t', 'tmpfs', '-o', 'size=16k,mode=0700', 'tmpfs', dir]);
      if (mounted.ok) await run('umount', [dir]);
      return mounted;
    }),
  ),

  /** A PID namespace of its own, as another container sharing the config folder has. */
  unshare: capability('unshare', 'util-linux', 'root with CAP_SYS_ADMIN', () =>
    run('unshare', ['--pid', '--fork', '--mount-proc', 'true']),
  ),

  /** Giving a folder to another user (chown to nobody), as a cache planted by someone else would be. */
  chown: capability('chown', 'coreutils', 'root, or CAP_CHOWN', () =>
    inScratch((dir) => run('chown', ['65534:65534', dir])),
  ),

  /** A device node of our own making (mknod, as /dev/null is), where the store should be. */
  mknod: capability('mknod', 'coreutils', 'root with CAP_MKNOD, and a temporary folder not mounted nodev', () =>
    inScratch((dir) => run('mknod', ['-m', '0600', join(dir, 'probe'), 'c', '1', '3'])),
  ),

  /** The immutable attribute (chattr +i) on a file in the temporary folder, and writes then refused. */
  chattr: capability(
    'chattr',
    'e2fsprogs',
    'root with CAP_LINUX_IMMUTABLE, and a temporary folder on a file system that has the attribute',
    () =>
      inScratch(async (dir) => {
        const file = join(dir, 'probe');
        writeFileSync(file, '');
        const set = await run('chattr', ['+i', file]);
        if (!set.ok) return set;
        try {
          appendFileSync(file, 'x');
          return { absent: false, ok: false, detail: `chattr +i ${file}: set, yet the file can still be written` };
        } catch {
          return set;
        } finally {
          await run('chattr', ['-i', file]);
        }
      }),
  ),
} satisfies Record<string, Need>;

export type Requirement = keyof typeof NEEDS;

export const isRequirement = (name: string): name is Requirement => Object.hasOwn(NEEDS, name);

/** Every need probed at once. */
export async function probeAll(): Promise<Record<Requirement, Probe>> {
  const names = Object.keys(NEEDS) as Requirement[];
  const results = await Promise.all(names.map((name) => NEEDS[name].probe()));
  return Object.fromEntries(names.map((name, i) => [name, results[i]!])) as Record<Requirement, Probe>;
}

/** Whether the environment says CI: `CI` set to anything but empty, `0` or `false` (as CLI.md reads it). */
export function underCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.CI?.toLowerCase();
  return value !== undefined && value !== '' && value !== '0' && value !== 'false';
}

/** What a need that is missing is recorded as, on the skipped or failed test (its `meta`). */
export interface Missing {
  need: string;
  why: string;
  apt?: string;
  grant?: string;
}

declare module 'vitest' {
  interface ProvidedContext {
    /** What the global setup's probes found, by need. */
    kashNeeds: Record<string, Probe>;
    /** The folder the test files' sandboxes go in, removed at the end of the run (environment.ts). */
    kashTemp: string;
  }
  interface TaskMeta {
    /** The needs that this test or suite lacks here: it was skipped, or, under CI, failed. */
    kashMissing?: Missing[];
  }
}
