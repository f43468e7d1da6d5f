import { ExitCode, KashError } from './errors.js';

interface Notice {
  message: string;
  hint?: string | undefined;
}

const NOTHING_CHANGED: Notice = { message: 'cancelled; nothing was changed' };
let notice: Notice = NOTHING_CHANGED;

/**
 * The lines a Ctrl-C ends a run with, on a line of their own after the ^C that a terminal
 * shows. What it means at this point of the run is the same at a prompt and outside one:
 * once a code has been sent and remembered, "nothing was changed" would not be true.
 */
export function cancelText(): string {
  return `\nerror: ${notice.message}\n${notice.hint ? `${notice.hint}\n` : ''}`;
}

export function setCancelNotice(message: string, hint: string): void {
  notice = { message, hint };
}

/** A new run starts with nothing changed. */
export function resetCancelNotice(): void {
  notice = NOTHING_CHANGED;
}

export const cancelledError = (cause?: unknown) =>
  new KashError(ExitCode.cancelled, notice.message, { hint: notice.hint, cause });
