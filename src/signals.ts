import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

let child: ChildProcess | undefined;
let witness: GroupWitness | undefined;
/** What Ctrl-C does in place of cancelling, while a keyring call is waited on (withInterrupt). */
let instead: (() => void) | undefined;

/** Whether a process kash started has started and not yet ended. */
export const running = (child: ChildProcess) =>
  child.pid !== undefined && child.exitCode === null && child.signalCode === null;

/** Passed on to the command `kash exec` runs: every signal a person or a supervisor sends to stop or poke a program. */
const FORWARDED = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const;

/** What a terminal sends to its whole foreground process group: Ctrl-C, Ctrl-\, a resize, a hang-up. */
const FROM_TERMINAL = new Set<NodeJS.Signals>(['SIGINT', 'SIGQUIT', 'SIGWINCH', 'SIGHUP']);

/** How long a signal to kash waits for the witness to say whether it got the same one. */
const SAME_SIGNAL_MS = 250;

/**
 * A shell in kash's process group, as the command is, that reports each signal it gets.
 * A signal to kash alone (`kill` of its PID) is not reported and is forwarded; one to
 * the whole group (the terminal's Ctrl-C, a resize, a hang-up, `kill -- -PGID`) is, and
 * the command has it already. Node cannot tell the sender of a signal, so the group is
 * asked instead; the shell ends by itself within seconds when kash is gone.
 */
class GroupWitness {
  readonly #shell: ChildProcess;
  /** When the witness reported each signal that no signal to kash has matched yet. */
  readonly #reported = new Map<NodeJS.Signals, number[]>();
  /** The signals to kash waiting for a report, each with what to do when it comes. */
  readonly #waiting = new Map<NodeJS.Signals, Array<() => void>>();

  constructor() {
    const { spawn } = process.getBuiltinModule('node:child_process');
    const names = FORWARDED.map((signal) => signal.slice(3)).join(' ');
    const script = `for s in ${names}; do trap "echo SIG$s" $s; done; while kill -0 $PPID 2>/dev/null; do sleep 5 & wait $!; done`;
    this.#shell = spawn('/bin/sh', ['-c', script], { stdio: ['ignore', 'pipe', 'ignore'] });
    // A shell that could not start is not alive, which is all kash needs to know of it.
    this.#shell.on('error', () => undefined);
    this.#shell.on('exit', (_code, signal) => {
      // Killed by one before its traps were set: the group got that one.
      if (signal) this.#report(signal);
    });
    let partial = '';
    this.#shell.stdout?.setEncoding('utf8').on('data', (text: string) => {
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) this.#report(line as NodeJS.Signals);
    });
    this.#shell.unref();
    (this.#shell.stdout as { unref?: () => void } | null)?.unref?.();
  }

  get alive(): boolean {
    return running(this.#shell);
  }

  /** `forward` runs unless the witness reports the same signal, before or within SAME_SIGNAL_MS. */
  judge(signal: NodeJS.Signals, forward: () => void): void {
    const reports = (this.#reported.get(signal) ?? []).filter((at) => performance.now() - at < SAME_SIGNAL_MS);
    if (reports.length > 0) {
      reports.shift();
      this.#reported.set(signal, reports);
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const matched = () => clearTimeout(timer);
    timer = setTimeout(() => {
      this.#waiting.set(
        signal,
        (this.#waiting.get(signal) ?? []).filter((entry) => entry !== matched),
      );
      forward();
    }, SAME_SIGNAL_MS);
    this.#waiting.set(signal, [...(this.#waiting.get(signal) ?? []), matched]);
  }

  #report(signal: NodeJS.Signals): void {
    const waiting = this.#waiting.get(signal) ?? [];
    const first = waiting.shift();
    if (first) first();
    else this.#reported.set(signal, [...(this.#reported.get(signal) ?? []), performance.now()]);
  }

  stop(): void {
    for (const waiting of this.#waiting.values()) for (const matched of waiting) matched();
    this.#waiting.clear();
    if (this.alive) this.#shell.kill('SIGKILL');
  }
}

/**
 * Whether kash is in its terminal's foreground process group, and so shares each of the
 * terminal's signals with the command it runs (which is in kash's group): what is left to
 * go by where no witness runs. Linux says so in /proc/self/stat (fields 5 and 8: the
 * process group and the terminal's foreground one). Elsewhere there is no asking: a
 * Windows console signals every process attached to it, and on macOS a controlling
 * terminal is taken to mean the foreground.
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
    closeSync(openSync('/dev/tty', 'r'));
    return true;
  } catch {
    return false;
  }
}

/** A signal reaches the command once: forwarded unless it was sent to the command's group as well. */
function forward(signal: NodeJS.Signals): void {
  const to = child;
  if (!to) return;
  if (witness?.alive) witness.judge(signal, () => to.kill(signal));
  else if (!(FROM_TERMINAL.has(signal) && inTerminalForeground())) to.kill(signal);
}

/**
 * Installed first thing in every run. Ctrl-C is "cancelled" (or, while `kash exec` runs a
 * command, the command's); SIGUSR1 would otherwise open Node's inspector on 127.0.0.1:9229,
 * a debugger port into a process that holds the key.
 */
export function installSignalHandlers(cancel: () => void): void {
  process.on('SIGINT', () => {
    if (instead) instead();
    else if (child) forward('SIGINT');
    else cancel();
  });
  process.on('SIGUSR1', () => forward('SIGUSR1'));
}

/**
 * Runs `work` with Ctrl-C given to `interrupted`. A keyring call cannot be left the usual
 * way: process.exit waits for the library's thread, stuck in a system call, and a stuck
 * constructor holds the main thread, where no handler of kash's runs until it returns.
 */
export async function withInterrupt<T>(interrupted: () => void, work: () => Promise<T>): Promise<T> {
  const outer = instead;
  instead = interrupted;
  try {
    return await work();
  } finally {
    instead = outer;
  }
}

/**
 * While `kash exec` waits for its command, signals sent to kash go to the command, and none
 * ends kash before it. A witness (not on Windows, whose console has no such signals)
 * tells a signal to kash alone from one to its whole group. Called before the command is
 * started, which may run, and be signalled, before spawn() returns: the handlers are in
 * place by then, and run only once `to` has named the command (it is called in the same
 * turn of the event loop as spawn).
 */
export function forwardSignals(): { to(command: ChildProcess): void; stop(): void } {
  if (process.platform !== 'win32') {
    try {
      witness = new GroupWitness();
    } catch {
      witness = undefined;
    }
  }
  // SIGINT and SIGUSR1 are handled from the start, for every run.
  const others = FORWARDED.filter((signal) => signal !== 'SIGINT' && signal !== 'SIGUSR1');
  for (const signal of others) process.on(signal, forward);
  return {
    to: (command) => {
      child = command;
    },
    stop: () => {
      child = undefined;
      witness?.stop();
      witness = undefined;
      for (const signal of others) process.off(signal, forward);
    },
  };
}
