import type { ChildProcess } from 'node:child_process';

let child: ChildProcess | undefined;
let childHasTerminal = false;

/**
 * Ctrl-C: "cancelled", or, while `kash exec` runs a command, the command's to handle.
 * At a terminal the command gets Ctrl-C from the terminal itself (it shares kash's
 * process group); forwarding it too would make one Ctrl-C count twice.
 */
export function onInterrupt(cancel: () => void): void {
  process.on('SIGINT', () => {
    if (!child) cancel();
    else if (!childHasTerminal) child.kill('SIGINT');
  });
}

const FORWARDED = ['SIGTERM', 'SIGHUP', 'SIGQUIT'] as const;

/** While `kash exec` waits for its command, signals sent to kash go to the command. Returns stop. */
export function forwardSignals(to: ChildProcess, sharesTerminal: boolean): () => void {
  child = to;
  childHasTerminal = sharesTerminal;
  const forward = (signal: NodeJS.Signals) => to.kill(signal);
  for (const signal of FORWARDED) process.on(signal, forward);
  return () => {
    child = undefined;
    for (const signal of FORWARDED) process.off(signal, forward);
  };
}
