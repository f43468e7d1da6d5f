/** Exit statuses of ../shared/CLI.md; the only place they are spelled as numbers. */
export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  refused: 3,
  service: 4,
  notLoggedIn: 5,
  store: 6,
  /** `kash exec`: as shells say it, the command could not be run, or not found. */
  cannotRun: 126,
  notFound: 127,
  cancelled: 130,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * The one error type commands throw. `src/cli.ts` turns it into the `error:` line,
 * the optional hint line and the exit status.
 */
export class KashError extends Error {
  readonly exitCode: ExitCode;
  readonly hint: string | undefined;

  constructor(exitCode: ExitCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'KashError';
    this.exitCode = exitCode;
    this.hint = options.hint;
  }
}

/** An error and the errors it wraps, outermost first (fetch wraps what really happened). */
export function* causes(error: unknown, depth = 5): Generator<unknown> {
  for (let e = error; e !== null && e !== undefined && depth > 0; e = (e as { cause?: unknown }).cause, depth--)
    yield e;
}

export const usageError = (message: string, hint?: string) => new KashError(ExitCode.usage, message, { hint });
