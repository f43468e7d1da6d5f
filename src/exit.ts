import type { CommanderError } from 'commander';
import { causes, ExitCode, KashError } from './errors.js';
import type { IO } from './io.js';
import { Secrets } from './output/redact.js';
import { isVerbose } from './settings.js';

/** How the outcome is shown: with the run's own settings once resolved, the environment's alone before. */
export interface Shown {
  io: IO;
  verbose: boolean;
}

/** What a run learns as its context is built: how to show the outcome, and a status chosen by the command. */
export interface RunHooks {
  shown(shown: Shown): void;
  exitWith(status: number): void;
}

/**
 * One run's outcome as it takes shape: shown with the environment's settings alone until
 * the run's own are resolved, its secrets kept off stderr, the status a command chose.
 */
export class Outcome implements RunHooks {
  status: number = ExitCode.ok;
  readonly secrets = new Secrets();
  #shown: Shown;

  constructor(io: IO, env: NodeJS.ProcessEnv) {
    this.#shown = { io, verbose: isVerbose({}, env) };
  }

  shown = (shown: Shown): void => {
    this.#shown = shown;
  };

  exitWith = (status: number): void => {
    this.status = status;
  };

  /** The exit status for an error, its line written as the run shows things. */
  failed(error: unknown, at?: string): number {
    return exitStatus(error, this.#shown.io, this.#shown.verbose, this.secrets, at);
  }
}

/**
 * Commander's own errors, known by their code rather than their class, so that this file
 * (on the print path) never loads commander.
 */
const isCommanderError = (error: unknown): error is CommanderError =>
  error instanceof Error &&
  typeof (error as { code?: unknown }).code === 'string' &&
  /^commander\./.test((error as CommanderError).code);

/** The only place that turns an outcome into an exit status and the `error:` line. */
export function exitStatus(error: unknown, io: IO, verbose: boolean, secrets = new Secrets(), at?: string): number {
  const line = (text: string) => io.stderr.write(`${secrets.redact(text)}\n`);
  if (isCommanderError(error)) {
    // Commander has printed its own message (or the help or version) already; what to do about it follows.
    if (error.exitCode === 0) return ExitCode.ok;
    line(io.color.dim(usageHint(error, at)));
    return ExitCode.usage;
  }
  if (error instanceof KashError) {
    line(`${io.color.red('error:')} ${error.message}`);
    if (error.hint) line(io.color.dim(error.hint));
    // The whole chain: fetch wraps the failure that says what happened (Node 24 gives its own wrapper no frames).
    if (verbose) {
      for (const cause of causes(error.cause)) if (cause instanceof Error) line(cause.stack ?? cause.message);
    }
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  line(`${io.color.red('error:')} unexpected internal error: ${message}`);
  line(
    verbose && error instanceof Error && error.stack
      ? error.stack
      : 'Run again with --verbose for the stack trace, and report it.',
  );
  return ExitCode.internal;
}

/** The line under commander's own error: what to do instead, where kash knows better than "see --help". */
function usageHint(error: CommanderError, at: string | undefined): string {
  if (error.code === 'commander.unknownOption' && /'--password(=[^']*)?'/.test(error.message)) {
    return 'There is no --password: a password on the command line is visible to every user (ps). Pipe it to --password-stdin (printf \'%s\\n\' "$PASSWORD" | kash login --password-stdin …), or set KASH_PASSWORD.';
  }
  if (error.code === 'commander.unknownOption' && at === 'exec') {
    return 'Put -- before the command, so that kash leaves its options alone: kash exec -- <command> <its options…>';
  }
  return '(run with --help for usage)';
}
