import type { Context } from '../context.js';

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
export interface CommandSpec<Options> {
  name: string;
  helpGroup: string;
  description: string;
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
