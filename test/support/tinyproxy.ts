// A real HTTP proxy for the end-to-end tests: tinyproxy (the Debian package `tinyproxy`),
// run in the foreground on 127.0.0.1 with a free port and a config written to a temporary
// folder. Its log lets a test prove that a request went through it (or did not).
//
// Everything here is asynchronous: the emulator answers from the test's own process, so
// nothing may block its event loop.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Where tinyproxy is; TINYPROXY overrides (a build of one's own, another distribution's path). */
export const TINYPROXY_BIN = process.env.TINYPROXY || 'tinyproxy';

export interface TinyproxyOptions {
  /**
   * The only ports CONNECT may reach (tinyproxy's `ConnectPort`). Absent: every port.
   * `[]`: none at all (`ConnectPort 0`), so that every CONNECT is refused with 403.
   */
  connectPorts?: number[];
  /** Require these credentials (`BasicAuth user password`): anything else gets 407. */
  basicAuth?: { user: string; password: string };
  /**
   * Hosts refused with 403 (tinyproxy's `Filter`), as extended regular expressions
   * matched against the host name, e.g. `^127\.0\.0\.1$`.
   */
  filter?: string[];
}

export interface Tinyproxy {
  /** http://127.0.0.1:<port>, without credentials. */
  url: string;
  port: number;
  /** The temporary folder holding the config, the log and the filter file. */
  dir: string;
  /** The whole log so far, or from byte `since` (a value of `mark()`). */
  log(since?: number): Promise<string>;
  /** Where the log ends now: pass it to `log` or `requests` to see only what follows. */
  mark(): Promise<number>;
  /**
   * The request lines the proxy received (from byte `since` of the log), as tinyproxy
   * logs them: `CONNECT 127.0.0.1:4321 HTTP/1.1`, `POST http://host/path HTTP/1.1`.
   */
  requests(since?: number): Promise<string[]>;
  /** Stops tinyproxy (SIGTERM, then SIGKILL) and removes its folder. */
  stop(): Promise<void>;
}

/** Ports freePort has handed out: the kernel may give a closed one again at the next call. */
const handedOut = new Set<number>();

/**
 * A port nobody listens on at this moment, and one this process was never given before:
 * a proxy started later must not take the port a test keeps as one nobody listens on.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

function config(port: number, dir: string, options: TinyproxyOptions): string {
  const lines = [
    `Port ${port}`,
    'Listen 127.0.0.1',
    'Timeout 30',
    'MaxClients 64',
    'Allow 127.0.0.1',
    // Info logs every request line and, at start, "Accepting connections", which we wait for.
    'LogLevel Info',
    `LogFile "${join(dir, 'tinyproxy.log')}"`,
    'DisableViaHeader Yes',
  ];
  if (options.connectPorts !== undefined) {
    lines.push(
      ...(options.connectPorts.length === 0 ? ['ConnectPort 0'] : options.connectPorts.map((p) => `ConnectPort ${p}`)),
    );
  }
  if (options.basicAuth) lines.push(`BasicAuth ${options.basicAuth.user} ${options.basicAuth.password}`);
  if (options.filter) {
    lines.push(`Filter "${join(dir, 'filter')}"`, 'FilterType ere', 'FilterDefaultDeny No');
  }
  return `${lines.join('\n')}\n`;
}

const READY = 'Accepting connections';

/** Starts once on `port`; resolves when tinyproxy listens, rejects when it exits first. */
async function startOn(port: number, dir: string): Promise<ChildProcess> {
  const logPath = join(dir, 'tinyproxy.log');
  await writeFile(logPath, '');
  const child = spawn(TINYPROXY_BIN, ['-d', '-c', join(dir, 'tinyproxy.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  let exited: string | undefined;
  child.once(
    'error',
    (error) => (exited = `could not run ${TINYPROXY_BIN}: ${error.message} (install the Debian package tinyproxy)`),
  );
  child.once(
    'exit',
    (code, signal) => (exited ??= `tinyproxy exited (${signal ?? `status ${String(code)}`}) before listening`),
  );
  const deadline = Date.now() + 10_000;
  for (;;) {
    const log = await readFile(logPath, 'utf8').catch(() => '');
    if (log.includes(READY)) return child;
    if (exited !== undefined) throw new Error(`${exited}\n${output}${log}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`tinyproxy did not start listening on 127.0.0.1:${port} within 10 s\n${output}${log}`);
    }
    await sleep(15);
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 2000);
  await exited;
  clearTimeout(killer);
}

/** Starts a tinyproxy; call `stop()` (in afterAll) when done. */
export async function startTinyproxy(options: TinyproxyOptions = {}): Promise<Tinyproxy> {
  const dir = await mkdtemp(join(tmpdir(), 'kash-tinyproxy-'));
  const logPath = join(dir, 'tinyproxy.log');
  if (options.filter) await writeFile(join(dir, 'filter'), `${options.filter.join('\n')}\n`);

  // Another process may take the free port between our check and tinyproxy's bind: try again.
  let child: ChildProcess | undefined;
  let port = 0;
  let lastError: unknown;
  for (let attempt = 0; attempt < 3 && child === undefined; attempt++) {
    port = await freePort();
    await writeFile(join(dir, 'tinyproxy.conf'), config(port, dir, options));
    try {
      child = await startOn(port, dir);
    } catch (error) {
      lastError = error;
      if (String(error).includes('could not run')) break;
    }
  }
  if (child === undefined) {
    await rm(dir, { recursive: true, force: true });
    throw lastError;
  }
  const running = child;

  const log = async (since = 0) => {
    const file = await open(logPath, 'r');
    try {
      const { size } = await file.stat();
      const length = Math.max(0, size - since);
      const buffer = Buffer.alloc(length);
      await file.read(buffer, 0, length, since);
      return buffer.toString('utf8');
    } finally {
      await file.close();
    }
  };

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dir,
    log,
    mark: async () => (await stat(logPath)).size,
    requests: async (since = 0) =>
      [...(await log(since)).matchAll(/Request \(file descriptor \d+\): (.*)$/gm)].map((match) => match[1]!.trim()),
    stop: async () => {
      await stopChild(running);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
