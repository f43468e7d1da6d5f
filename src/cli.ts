import { cancelText, resetCancelNotice } from './cancel.js';
import { envCommand } from './commands/env.js';
import { type CommandSpec, optionKey } from './commands/spec.js';
import { whoamiCommand } from './commands/whoami.js';
import { contextForFlags, type Overrides, VERSION } from './context.js';
import { ExitCode } from './errors.js';
import { Outcome } from './exit.js';
import { GLOBAL_OPTIONS, globalFlagsFrom } from './global-options.js';
import { type IO, processIO } from './io.js';
import { installSignalHandlers } from './signals.js';

/** The print path's commands: what a shell start-up file runs, every time. */
const FAST: ReadonlyArray<CommandSpec<never>> = [envCommand, whoamiCommand] as ReadonlyArray<CommandSpec<never>>;

interface FastLine {
  spec: CommandSpec<never>;
  globals: Record<string, unknown>;
  options: Record<string, unknown>;
  typed: Set<string>;
}

/**
 * A line of the print path in its plainest spelling — `env` or `whoami`, then each of its
 * own or the global options at most once, as `--name` or `--name value` — read without
 * commander, which costs a shell start-up more than the command itself. Anything else
 * (help, `--name=value`, a short option, `--`, a value that looks like an option, a
 * repeat, a mistake) is undefined: commander reads it, and says what is wrong.
 */
export function fastLane(args: readonly string[]): FastLine | 'version' | undefined {
  if (args.length === 1 && args[0] === '--version') return 'version';
  let line: FastLine | undefined;
  const typed = new Set<string>();
  const globals: Record<string, unknown> = {};
  for (let i = 0; i < args.length; i++) {
    const word = args[i] as string;
    if (!word.startsWith('-')) {
      if (line) return undefined;
      const spec = FAST.find((candidate) => candidate.name === word);
      if (!spec) return undefined;
      line = { spec, globals, options: {}, typed };
      for (const option of spec.options) {
        if (option.default !== undefined) line.options[optionKey(option.flags).key] = option.default;
      }
      continue;
    }
    const own = line?.spec.options.find((option) => optionKey(option.flags).long === word);
    const found = own ?? GLOBAL_OPTIONS.find((option) => optionKey(option.flags).long === word);
    if (!found) return undefined;
    const { key, takesValue, negated } = optionKey(found.flags);
    const typedKey = own ? key : `global:${key}`;
    if (typed.has(typedKey)) return undefined;
    typed.add(typedKey);
    const into = own && line ? line.options : globals;
    if (!takesValue) {
      into[key] = !negated;
      continue;
    }
    const value = args[++i];
    if (value === undefined || value.startsWith('-')) return undefined;
    into[key] = value;
  }
  return line;
}

/** Runs a fast-lane line as commander would have: the same flags, context, options and exit. */
async function runFast(line: FastLine, io: IO, env: NodeJS.ProcessEnv, overrides: Overrides): Promise<number> {
  const outcome = new Outcome(io, env);
  const flags = globalFlagsFrom(line.globals, (key) => line.typed.has(`global:${key}`));
  try {
    const ctx = await contextForFlags(flags, io, env, outcome.secrets, overrides, outcome);
    await line.spec.run(ctx, line.options as never, line.typed);
    return outcome.status;
  } catch (error) {
    return outcome.failed(error, line.spec.name);
  }
}

export async function run(argv: string[], io: IO, env: NodeJS.ProcessEnv, overrides: Overrides = {}): Promise<number> {
  resetCancelNotice();
  const fast = fastLane(argv.slice(2));
  if (fast === 'version') {
    try {
      io.stdout.write(`${VERSION}\n`);
      return ExitCode.ok;
    } catch (error) {
      return new Outcome(io, env).failed(error);
    }
  }
  if (fast) return runFast(fast, io, env, overrides);
  const { runProgram } = await import('./program.js');
  return runProgram(argv, io, env, overrides);
}

export async function main(): Promise<void> {
  // The contract has no switch to skip certificate checks, so Node's own is not one either.
  // Node reads it from the process's environment at each TLS connection; `env` keeps the
  // user's copy for what kash hands on (`kash exec`) and for the warning.
  const env = { ...process.env };
  delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
  const io = processIO();
  // A Ctrl-C outside a prompt (say, while waiting for the service) must still end as
  // "cancelled": nothing is half-written, since saves are atomic and the lock is released on exit.
  installSignalHandlers(() => {
    io.stderr.write(cancelText());
    process.exit(ExitCode.cancelled);
  });

  const status = await run(process.argv, io, env);
  // Output is written synchronously, so nothing is lost; keep-alive sockets must not hold the process open.
  process.exit(status);
}
