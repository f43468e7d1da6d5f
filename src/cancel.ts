import { ExitCode, KashError } from './errors.js';

interface Notice {
  message: string;
  hint?: string | undefined;
}

const NOTHING_CHANGED: Notice = { message: 'cancelled; nothing was changed' };
let notice: Notice = NOTHING_CHANGED;

/**
 * What a Ctrl-C means at this point of the run, the same at a prompt and outside one:
 * once a code has been sent and remembered, "nothing was changed" would not be true.
 */
export function cancelNotice(): Notice {
  return notice;
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
