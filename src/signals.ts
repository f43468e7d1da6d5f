import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

let child: ChildProcess | undefined;

/** Passed on to the command `kash exec` runs: every signal a person or a supervisor sends to stop or poke a program. */
const FORWARDED = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const;

/** What a terminal sends to its whole foreground process group: Ctrl-C, Ctrl-\, a resize, a hang-up. */
const FROM_TERMINAL = new Set<NodeJS.Signals>(['SIGINT', 'SIGQUIT', 'SIGWINCH', 'SIGHUP']);

/**
 * Whether kash is in its terminal's foreground process group, and so shares each of the
 * terminal's signals with the command it runs (which is in kash's group). Linux says so in
 * /proc/self/stat (fields 5 and 8: the process group and the terminal's foreground one).
 * Elsewhere there is no asking: a Windows console signals every process attached to it,
 * and on macOS a controlling terminal is taken to mean the foreground.
 */
function inTerminalForeground(): boolean {
  if (process.platform === 'win32') return true;
  try {
    if (process.platform === 'linux') {
      const stat = readFileSync('/proc/self/stat', 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const [group, foreground] = [Number(fields[2]), Number(fields[5])];
      return foreground > 0 && group === foreground;
    }
    const { closeSync, openSync } = process.getBuiltinModule('node:fs');
    closeSync(openSync('/dev/tty', 'r'));
    return true;
  } catch {
    return false;
  }
}

/** A signal reaches the command once: forwarded unless the terminal sent it to the command already. */
function forward(signal: NodeJS.Signals): void {
  if (!child) return;
  if (FROM_TERMINAL.has(signal) && inTerminalForeground()) return;
  child.kill(signal);
}

/**
 * Installed first thing in every run. Ctrl-C is "cancelled" (or, while `kash exec` runs a
 * command, the command's); SIGUSR1 would otherwise open Node's inspector on 127.0.0.1:9229,
 * a debugger port into a process that holds the key.
 */
export function installSignalHandlers(cancel: () => void): void {
  interrupt = () => (child ? forward('SIGINT') : cancel());
  process.on('SIGINT', interrupt);
  process.on('SIGUSR1', () => forward('SIGUSR1'));
}

let interrupt: (() => void) | undefined;
let uninterruptible = 0;

/**
 * Runs `work` with Ctrl-C left to the system, which ends kash at once (the shell sees 130).
 * A keyring library stuck in a system call can hold the main thread, where no handler of
 * kash's would run until it returns, and process.exit would wait for it; nothing is
 * half-written meanwhile, since no keyring call is made under the store's lock.
 */
export async function withSystemInterrupt<T>(work: () => Promise<T>): Promise<T> {
  if (interrupt && uninterruptible++ === 0) process.off('SIGINT', interrupt);
  try {
    return await work();
  } finally {
    if (interrupt && --uninterruptible === 0) process.on('SIGINT', interrupt);
  }
}

/**
 * While `kash exec` waits for its command, signals sent to kash go to the command, and none
 * ends kash before it. Returns stop.
 */
export function forwardSignals(to: ChildProcess): () => void {
  child = to;
  // SIGINT and SIGUSR1 are handled from the start, for every run.
  const others = FORWARDED.filter((signal) => signal !== 'SIGINT' && signal !== 'SIGUSR1');
  for (const signal of others) process.on(signal, forward);
  return () => {
    child = undefined;
    for (const signal of others) process.off(signal, forward);
  };
}
