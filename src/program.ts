import { Command, Option } from 'commander';
import { apiCommand } from './commands/api.js';
import { COMPLETE, completionCommand, runComplete } from './commands/completion.js';
import { envCommand } from './commands/env.js';
import { execCommand } from './commands/exec.js';
import { loginCommand } from './commands/login.js';
import { logoutCommand } from './commands/logout.js';
import { otpCommand } from './commands/otp.js';
import { shopsCommand } from './commands/shops.js';
import type { CommandEntry, CommandSpec } from './commands/spec.js';
import { switchCommand } from './commands/switch.js';
import { whoamiCommand } from './commands/whoami.js';
import { type ContextFactory, contextForFlags, type Overrides, VERSION } from './context.js';
import { ExitCode } from './errors.js';
import { Outcome, type RunHooks } from './exit.js';
import { GLOBAL_OPTIONS, globalFlagsFrom } from './global-options.js';
import type { IO } from './io.js';
import { examples } from './output/examples.js';
import type { Secrets } from './output/redact.js';
import { quote } from './sanitize.js';
import type { GlobalFlags } from './settings.js';

/**
 * The global options the user typed, wherever on the line: the one place that asks
 * commander where a value came from, so that nothing else reads argv again.
 */
export function globalFlags(command: Command): GlobalFlags {
  return globalFlagsFrom(command.optsWithGlobals(), (key) => command.getOptionValueSourceWithGlobals(key) === 'cli');
}

/** A command declared as data, as commander runs it and shows it in help and completion. */
function fromSpec<Options>(spec: CommandSpec<Options>): CommandEntry {
  return {
    ...spec,
    define: (command, context) => {
      for (const option of spec.options) command.option(option.flags, option.description, option.default);
      return command
        .action(async (options: Options, self: Command) => {
          const typed = new Set(self.options.map((option) => option.attributeName()));
          for (const key of typed) if (self.getOptionValueSource(key) !== 'cli') typed.delete(key);
          await spec.run(await context(self), options, typed);
        })
        .addHelpText('after', examples(...spec.examples));
    },
  };
}

/** In the order `kash --help` lists them. */
const COMMANDS: readonly CommandEntry[] = [
  loginCommand,
  otpCommand,
  switchCommand,
  logoutCommand,
  shopsCommand,
  fromSpec(whoamiCommand),
  fromSpec(envCommand),
  execCommand,
  apiCommand,
  completionCommand,
];

/**
 * Which commands a line needs in full. Only a command that a word names can run, be asked
 * for help or be completed; any other is listed, suggested for a typo, or refused by name,
 * for all of which its head is enough. A line that names none, or that may ask for help
 * (where the list shows each command's arguments), gets every command in full.
 */
export function commandsInFull(words: readonly string[]): (name: string) => boolean {
  const named = new Set(words);
  const all =
    ['help', '--help', '-h'].some((word) => named.has(word)) || !COMMANDS.some((entry) => named.has(entry.name));
  return (name) => all || named.has(name);
}

/** The program, with the commands that `inFull` names defined in full and the others by their heads. */
export function buildProgram(io: IO, context: ContextFactory, inFull: (name: string) => boolean = () => true): Command {
  const program = new Command('kash')
    .description('Get API credentials for the kash.click point-of-sale service, and keep them.')
    .version(VERSION, '--version', 'print the version')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(text),
    })
    .configureHelp({ showGlobalOptions: true })
    .addHelpText(
      'after',
      examples(
        ['kash login', 'once, at a terminal'],
        ['eval "$(kash env)"', 'then, in a shell: KASH_APIKEY and KASH_SHOPID'],
        ['kash exec -- ./my-script', 'or hand them to one command only'],
      ),
    );
  for (const option of GLOBAL_OPTIONS) {
    program.addOption(new Option(option.flags, option.description).helpGroup('Global options:'));
  }
  // Building every command in full is most of what a line through commander costs before it runs.
  const commands = COMMANDS.map((entry) => {
    const head = new Command(entry.name).helpGroup(entry.helpGroup).description(entry.description);
    return inFull(entry.name) ? entry.define(head, context) : head;
  });
  for (const command of commands) {
    program.addCommand(command);
    // Added commands do not inherit the program's output and exit settings by themselves.
    for (const sub of [command, ...command.commands]) sub.copyInheritedSettings(program);
  }
  return program;
}

/** How each command gets its context: the flags read once, then everything from them. */
export function contextFactory(
  io: IO,
  env: NodeJS.ProcessEnv,
  secrets: Secrets,
  overrides: Overrides,
  on: RunHooks,
): ContextFactory {
  return (command) => contextForFlags(globalFlags(command), io, env, secrets, overrides, on);
}

/** Any line, through commander: help, every command, and every mistake commander names. */
export async function runProgram(
  argv: string[],
  io: IO,
  env: NodeJS.ProcessEnv,
  overrides: Overrides = {},
): Promise<number> {
  const outcome = new Outcome(io, env);
  const context = contextFactory(io, env, outcome.secrets, overrides, outcome);
  const program = buildProgram(io, context, commandsInFull(argv.slice(2)));
  let at: string | undefined;
  program.hook('preSubcommand', (_program, sub) => {
    at = sub.name();
  });
  try {
    // `kash` alone is a question: the help is its answer, on stdout, exit 0.
    if (argv.length <= 2) {
      program.outputHelp();
      return ExitCode.ok;
    }
    // Commander answers `help <unknown>` with the whole help, as if asked for it.
    const [first, second] = argv.slice(2);
    if (first === 'help' && second && !program.commands.some((c) => [c.name(), ...c.aliases()].includes(second))) {
      io.stderr.write(`error: unknown command ${quote(second)}\n`);
      io.stderr.write(`${io.color.dim('(run kash --help for the commands)')}\n`);
      return ExitCode.usage;
    }
    // Before commander, which would read kash's own options among the words being completed.
    if (argv[2] === COMPLETE) return runComplete(program, argv.slice(3), io.stdout, env);
    await program.parseAsync(argv);
    return outcome.status;
  } catch (error) {
    return outcome.failed(error, at);
  }
}
