import { Command, CommanderError, Option } from 'commander';
import { cancelNotice, resetCancelNotice } from './cancel.js';
import { apiCommand } from './commands/api.js';
import { COMPLETE, completionCommand, runComplete } from './commands/completion.js';
import { envCommand } from './commands/env.js';
import { execCommand } from './commands/exec.js';
import { loginCommand } from './commands/login.js';
import { logoutCommand } from './commands/logout.js';
import { otpCommand } from './commands/otp.js';
import { shopsCommand } from './commands/shops.js';
import { switchCommand } from './commands/switch.js';
import { whoamiCommand } from './commands/whoami.js';
import { type ContextFactory, createContext, type Overrides, VERSION } from './context.js';
import { causes, ExitCode, KashError } from './errors.js';
import { colorLevel, type IO, processIO, withColor } from './io.js';
import { examples } from './output/examples.js';
import { Secrets } from './output/redact.js';
import { quote } from './sanitize.js';
import { type GlobalFlags, isVerbose, resolveSettings } from './settings.js';
import { installSignalHandlers } from './signals.js';
import { keyringPending } from './store/keyring.js';

/** On the program only: commander reads a program's options before and after the subcommand. */
function addGlobalOptions(command: Command): Command {
  const global = (flags: string, description: string) => new Option(flags, description).helpGroup('Global options:');
  return command
    .addOption(global('--profile <name>', 'which saved credentials to use (env: KASH_PROFILE, default "default")'))
    .addOption(global('--base-url <url>', 'service root (env: KASH_BASE_URL, default https://kash.click)'))
    .addOption(global('--config-dir <dir>', 'where the credential store lives (env: KASH_CONFIG_DIR)'))
    .addOption(global('--timeout <seconds>', 'per request (env: KASH_TIMEOUT, default 30)'))
    .addOption(global('--json', 'machine-readable result on stdout'))
    .addOption(global('--no-input', 'never prompt (env: KASH_NO_INPUT=1 or CI=true)'))
    .addOption(global('--verbose', 'requests, statuses and timings on stderr, secrets redacted (env: KASH_DEBUG=1)'))
    .addOption(global('--no-color', 'no color (env: NO_COLOR; FORCE_COLOR forces it)'));
}

/**
 * The global options the user typed, wherever on the line: the one place that asks
 * commander where a value came from, so that nothing else reads argv again.
 */
export function globalFlags(command: Command): GlobalFlags {
  const values = command.optsWithGlobals();
  const typed = <T>(key: string): T | undefined =>
    command.getOptionValueSourceWithGlobals(key) === 'cli' ? (values[key] as T) : undefined;
  return {
    profile: typed('profile'),
    baseUrl: typed('baseUrl'),
    configDir: typed('configDir'),
    timeout: typed('timeout'),
    json: typed('json'),
    verbose: typed('verbose'),
    noInput: typed<boolean>('input') === false,
    noColor: typed<boolean>('color') === false,
  };
}

export function buildProgram(io: IO, context: ContextFactory): Command {
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
  addGlobalOptions(program);
  const commands = [
    loginCommand,
    otpCommand,
    switchCommand,
    logoutCommand,
    shopsCommand,
    whoamiCommand,
    envCommand,
    execCommand,
    apiCommand,
  ].map((make) => make(context));
  commands.push(completionCommand());
  for (const command of commands) {
    program.addCommand(command);
    // Added commands do not inherit the program's output and exit settings by themselves.
    for (const sub of [command, ...command.commands]) sub.copyInheritedSettings(program);
  }
  return program;
}

/** How the outcome is shown: with the run's own settings once resolved, the environment's alone before. */
export interface Shown {
  io: IO;
  verbose: boolean;
}

/** The only place that turns an outcome into an exit status and the `error:` line. */
export function exitStatus(error: unknown, io: IO, verbose: boolean, secrets = new Secrets(), at?: string): number {
  const line = (text: string) => io.stderr.write(`${secrets.redact(text)}\n`);
  if (error instanceof CommanderError) {
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

/**
 * How each command gets its context: the flags read once, color and verbosity decided
 * first (so that a setting that fails is itself shown as asked), then the settings.
 */
export function contextFactory(
  io: IO,
  env: NodeJS.ProcessEnv,
  secrets: Secrets,
  overrides: Overrides,
  on: { shown(shown: Shown): void; exitWith(status: number): void },
): ContextFactory {
  return async (command) => {
    const flags = globalFlags(command);
    const shownIO = await withColor(io, colorLevel(flags.noColor === true, env, io.stderrIsTTY));
    on.shown({ io: shownIO, verbose: isVerbose(flags, env) });
    return createContext(shownIO, env, resolveSettings(flags, env), secrets, overrides, on.exitWith);
  };
}

export async function run(argv: string[], io: IO, env: NodeJS.ProcessEnv, overrides: Overrides = {}): Promise<number> {
  resetCancelNotice();
  let status: number = ExitCode.ok;
  let shown: Shown = { io, verbose: isVerbose({}, env) };
  const secrets = new Secrets();
  const context = contextFactory(io, env, secrets, overrides, {
    shown: (now) => {
      shown = now;
    },
    exitWith: (chosen) => {
      status = chosen;
    },
  });
  const program = buildProgram(io, context);
  let at: string | undefined;
  program.hook('preSubcommand', (_program, sub) => {
    at = sub.name();
  });
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
  try {
    await program.parseAsync(argv);
    return status;
  } catch (error) {
    return exitStatus(error, shown.io, shown.verbose, secrets, at);
  }
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
    const { message, hint } = cancelNotice();
    io.stderr.write(`\nerror: ${message}\n${hint ? `${hint}\n` : ''}`);
    // A keyring call in flight holds the process even through process.exit: only ending itself leaves.
    if (keyringPending()) process.kill(process.pid, 'SIGKILL');
    process.exit(ExitCode.cancelled);
  });

  const status = await run(process.argv, io, env);
  // Output is written synchronously, so nothing is lost; keep-alive sockets must not hold the process open.
  process.exit(status);
}
