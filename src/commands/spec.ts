import type { Command } from 'commander';
import type { Context, ContextFactory } from '../context.js';

/** What the list of commands shows of one: all that a line naming another command needs of it. */
export interface CommandHead {
  name: string;
  helpGroup: string;
  description: string;
}

/**
 * A commander command in two steps: its head, then the rest (options, arguments, action,
 * help text), which the program adds only where the line may need it (see `buildProgram`).
 */
export interface CommandEntry extends CommandHead {
  /** Adds the rest to `command`, a command made from the head. */
  define(command: Command, context: ContextFactory): Command;
}

/** One option as commander spells it: `--format <format>` takes a value, `--all` does not. */
export interface OptionSpec {
  flags: string;
  description: string;
  default?: string;
}

/**
 * A command declared as data rather than built with commander: what the print path's
 * commands (`env`, `whoami`) are, so that their lines run without loading commander (see
 * `fastLane` in cli.ts), while help and completion see them as commander commands like
 * any other (built by `fromSpec` in program.ts).
 */
export interface CommandSpec<Options> extends CommandHead {
  options: OptionSpec[];
  examples: Array<[command: string, why: string]>;
  /** `typed` holds the option keys given on the command line, rather than defaulted. */
  run(ctx: Context, options: Options, typed: ReadonlySet<string>): Promise<void>;
}

/** The key commander stores an option under: `--base-url` is `baseUrl`, `--no-input` is `input`. */
export function optionKey(flags: string): { key: string; takesValue: boolean; negated: boolean; long: string } {
  // Plain string work: on the print path, each regular expression would be compiled at every start.
  const long = flags.split(' ').find((part) => part.startsWith('--')) ?? flags;
  const negated = long.startsWith('--no-');
  const words = long.slice(negated ? 5 : 2).split('-');
  const key = words.map((word, i) => (i === 0 ? word : word.charAt(0).toUpperCase() + word.slice(1))).join('');
  return { key, takesValue: flags.includes('<') || flags.includes('['), negated, long };
}
