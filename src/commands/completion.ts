import { Argument, Command, type Option } from 'commander';
import type { Context, ContextFactory } from '../context.js';
import {
  type CommandSpec,
  type CompletionSpec,
  INSTALL,
  type OptionSpec,
  SHELLS,
  type Shell,
  type ValueCompletion,
} from '../output/completion-shells.js';
import { ENV_FORMATS } from '../output/env-format.js';
import { examples } from '../output/examples.js';
import { parseProfileName } from '../settings.js';

export interface CompletionOptions {
  shell: Shell;
  spec: CompletionSpec;
}

const NAME = 'completion';
/** The hidden subcommand that the scripts run to complete --profile. */
const PROFILES = 'profiles';
const CONFIG_DIR_OPTION = '--config-dir';

/**
 * What an option's value is completed with, by option name, wherever it appears. Any other
 * option that takes a value is free text, unless commander knows its choices.
 */
const VALUES: Record<string, ValueCompletion> = {
  '--format': { kind: 'choices', values: ENV_FORMATS },
  '--profile': { kind: 'profiles' },
  [CONFIG_DIR_OPTION]: { kind: 'directory' },
};

export function completionCommand(context: ContextFactory): Command {
  const completion = new Command(NAME)
    .helpGroup('Set up:')
    .description('print a shell completion script: commands, options, formats and saved profiles')
    .usage('<shell>')
    .addArgument(new Argument('<shell>', 'the shell to complete in').choices(SHELLS))
    .addHelpText('after', examples(...SHELLS.flatMap((shell) => INSTALL[shell])))
    .action(async (shell: Shell, _options: unknown, self: Command) =>
      runCompletion(await context(self), { shell, spec: completionSpec(root(self)) }),
    );
  completion
    .command(PROFILES, { hidden: true })
    .description('print the saved profile names, one per line (for the completion scripts)')
    .action(async (_options: unknown, self: Command) => {
      let ctx: Context;
      try {
        ctx = await context(self);
      } catch {
        // A bad KASH_* variable: completion must not print an error into the prompt.
        return;
      }
      return runCompletionProfiles(ctx);
    });
  return completion;
}

export async function runCompletion(ctx: Context, options: CompletionOptions): Promise<void> {
  // 20 kB of script templates that no other command needs: loaded only here.
  const { completionScript } = await import('../output/completion-scripts.js');
  ctx.io.stdout.write(completionScript(options.shell, options.spec));
}

/**
 * The saved profile names, one per line: read-only and offline, as light as `whoami`.
 * No store, or one that cannot be read, prints nothing and succeeds.
 */
export async function runCompletionProfiles(ctx: Context): Promise<void> {
  let names: string[];
  try {
    names = Object.keys(ctx.store().read().profiles);
  } catch {
    return;
  }
  const valid = names.filter(isProfileName).sort();
  if (valid.length > 0) ctx.io.stdout.write(valid.map((name) => `${name}\n`).join(''));
}

function isProfileName(name: string): boolean {
  try {
    parseProfileName(name);
    return true;
  } catch {
    return false;
  }
}

function root(command: Command): Command {
  let top = command;
  while (top.parent) top = top.parent;
  return top;
}

// ---------------------------------------------------------------------------------------------
// The program, as the completion scripts need it

/**
 * Every visible command of `program`, read from commander itself (what `--help` shows:
 * hidden commands and options left out, the help option and command included), so the
 * scripts follow the commands as they change.
 */
export function completionSpec(program: Command): CompletionSpec {
  const help = program.createHelp();
  const commands: CommandSpec[] = [];
  const visit = (command: Command, path: string[], inherited: OptionSpec[], parent?: Command) => {
    const own = help.visibleOptions(command).map(optionSpec);
    const subcommands = help.visibleCommands(command);
    const last = command.registeredArguments.at(-1);
    commands.push({
      path,
      description: command.description(),
      // Commander reads an ancestor's option anywhere after it, so the global options apply everywhere.
      options: [
        ...own,
        ...inherited.filter((option) => !own.some((mine) => mine.long !== undefined && mine.long === option.long)),
      ],
      subcommands: subcommands.map((sub) => ({ name: sub.name(), description: sub.description() })),
      // Commander's own help command (not among its parent's commands) takes the name of another.
      operands:
        parent && !parent.commands.includes(command)
          ? help
              .visibleCommands(parent)
              .flatMap((sibling) => (parent.commands.includes(sibling) ? [sibling.name()] : []))
          : (command.registeredArguments[0]?.argChoices ?? []),
      passthrough: subcommands.length === 0 && last?.variadic === true && last.argChoices === undefined,
    });
    const global = [...command.options.filter((option) => !option.hidden).map(optionSpec), ...inherited];
    for (const sub of subcommands) visit(sub, [...path, sub.name()], global, command);
  };
  visit(program, [], []);
  return { program: program.name(), commands, profilesCommand: [NAME, PROFILES], configDirOption: CONFIG_DIR_OPTION };
}

function optionSpec(option: Option): OptionSpec {
  const takesValue = option.required || option.optional;
  return {
    long: option.long,
    short: option.short,
    description: option.description,
    value: takesValue
      ? option.argChoices
        ? { kind: 'choices', values: option.argChoices }
        : (VALUES[option.long ?? ''] ?? { kind: 'text' })
      : undefined,
    valueName: takesValue ? /[<[]([^>\]]+)[>\]]/.exec(option.flags)?.[1]?.replace(/\.\.\.$/, '') : undefined,
  };
}
