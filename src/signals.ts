import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

let child: ChildProcess | undefined;
let childHasTerminal = false;

/**
 * Ctrl-C: "cancelled", or, while `kash exec` runs a command, the command's to handle.
 * With a controlling terminal the command gets Ctrl-C from the terminal itself (it is
 * in kash's foreground process group, whatever its stdin is); forwarding it too would
 * make one Ctrl-C count twice.
 */
export function onInterrupt(cancel: () => void): void {
  process.on('SIGINT', () => {
    if (!child) cancel();
    else if (!childHasTerminal) child.kill('SIGINT');
  });
}

const FORWARDED = ['SIGTERM', 'SIGHUP', 'SIGQUIT'] as const;

/** Whether this process has a controlling terminal, which then signals its whole process group. */
function hasControllingTerminal(): boolean {
  // A Windows console, too, sends Ctrl-C to every process attached to it.
  if (process.platform === 'win32') return true;
  try {
    closeSync(openSync('/dev/tty', 'r'));
    return true;
  } catch {
    return false;
  }
}

/** While `kash exec` waits for its command, signals sent to kash go to the command. Returns stop. */
export function forwardSignals(to: ChildProcess): () => void {
  child = to;
  childHasTerminal = hasControllingTerminal();
  const forward = (signal: NodeJS.Signals) => to.kill(signal);
  for (const signal of FORWARDED) process.on(signal, forward);
  return () => {
    child = undefined;
    for (const signal of FORWARDED) process.off(signal, forward);
  };
}
