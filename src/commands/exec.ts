import { Command } from 'commander';
import type { Context, ContextFactory } from '../context.js';
import { effectiveCredentials } from '../credentials.js';
import { ExitCode, KashError, usageError } from '../errors.js';
import { parsePrefix } from '../output/env-format.js';
import { examples } from '../output/examples.js';
import { forwardSignals } from '../signals.js';

export interface ExecOptions {
  prefix: string;
  command: string[];
}

export function execCommand(context: ContextFactory): Command {
  return new Command('exec')
    .helpGroup('Use the credentials:')
    .description('run a command with the credentials in its environment, and only there')
    .argument('<command...>', 'the command and its arguments, after --')
    .option('--prefix <prefix>', 'variable name prefix', 'KASH_')
    .action(async (command: string[], options: { prefix: string }, self: Command) =>
      runExec(await context(self), { prefix: options.prefix, command }),
    )
    .addHelpText(
      'after',
      examples(
        ['kash exec -- ./sync-orders.sh', 'the script sees KASH_APIKEY and KASH_SHOPID'],
        ['kash exec --profile bakery -- npm run import', 'where eval does not work: npm scripts, make, Windows'],
        ['kash exec --prefix POS_ -- env', 'POS_APIKEY and POS_SHOPID instead'],
      ),
    );
}

export async function runExec(ctx: Context, options: ExecOptions): Promise<void> {
  const prefix = parsePrefix(options.prefix);
  const [file, ...args] = options.command;
  if (file === undefined || file === '')
    throw usageError('no command to run', 'Put it after --, e.g. kash exec -- ./deploy.sh');
  // Not logged in is said before anything runs.
  const { apiKey, shopId } = effectiveCredentials(ctx);
  const { spawn } = process.getBuiltinModule('node:child_process');
  const child = spawn(file, args, {
    stdio: 'inherit',
    env: { ...ctx.env, [`${prefix}APIKEY`]: apiKey, [`${prefix}SHOPID`]: shopId },
  });
  const stop = forwardSignals(child);
  try {
    const status = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) =>
        resolve(code ?? 128 + (signal ? process.getBuiltinModule('node:os').constants.signals[signal] : 0)),
      );
    });
    ctx.exitWith(status);
  } catch (error) {
    throw cannotStart(file, error);
  } finally {
    stop();
  }
}

function cannotStart(file: string, error: unknown): KashError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT')
    return new KashError(ExitCode.notFound, `command not found: ${file}`, {
      hint: 'Check the name, or give its path.',
      cause: error,
    });
  return new KashError(ExitCode.cannotRun, `cannot run ${file} (${code ?? 'unknown error'})`, {
    hint: 'Check that it is an executable file.',
    cause: error,
  });
}
