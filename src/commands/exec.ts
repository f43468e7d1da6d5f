import type { ChildProcess } from 'node:child_process';
import type { Command } from 'commander';
import type { Context } from '../context.js';
import { effectiveCredentials } from '../credentials.js';
import { ExitCode, KashError, usageError } from '../errors.js';
import { kashLine } from '../hints.js';
import { parsePrefix } from '../output/env-format.js';
import { examples } from '../output/examples.js';
import { forwardSignals } from '../signals.js';
import type { CommandEntry } from './spec.js';

export interface ExecOptions {
  prefix: string;
  command: string[];
}

export const execCommand: CommandEntry = {
  name: 'exec',
  helpGroup: 'Use the credentials:',
  description: 'run a command with the credentials in its environment, and only there',
  define: (command, context) =>
    command
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
      ),
};

export async function runExec(ctx: Context, options: ExecOptions): Promise<void> {
  const prefix = parsePrefix(options.prefix);
  const [file, ...args] = options.command;
  if (file === undefined || file === '') {
    throw usageError('no command to run', 'Put it after --, e.g. kash exec -- ./deploy.sh');
  }
  // Not logged in is said before anything runs.
  const effective = await effectiveCredentials(ctx);
  if (/\0/.test(effective.apiKey) || /\0/.test(effective.shopId)) {
    // Node would refuse it with the whole environment, key and all, in its message.
    throw new KashError(
      ExitCode.store,
      `the credentials of profile "${ctx.profile()}" hold a NUL, which no environment can carry`,
      {
        hint: `Log in again: ${kashLine('login', ctx.scope())}`,
      },
    );
  }
  const env = { ...ctx.env, [`${prefix}APIKEY`]: effective.apiKey, [`${prefix}SHOPID`]: effective.shopId };
  replaceKash(file, args, env);
  const { spawn } = process.getBuiltinModule('node:child_process');
  // Before the command starts: a signal to kash while spawn() runs would otherwise end it.
  const signals = forwardSignals();
  try {
    let child: ChildProcess;
    try {
      child = spawn(file, args, { stdio: 'inherit', env });
    } catch (error) {
      throw cannotStart(file, error, env.PATH);
    }
    signals.to(child);
    const status = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) =>
        resolve(code ?? 128 + (signal ? process.getBuiltinModule('node:os').constants.signals[signal] : 0)),
      );
    });
    ctx.exitWith(status);
  } catch (error) {
    if (error instanceof KashError) throw error;
    throw cannotStart(file, error, env.PATH);
  } finally {
    signals.stop();
  }
}

type Execve = (file: string, args: string[], env: NodeJS.ProcessEnv) => never;

/**
 * Where Node can (process.execve, not on Windows), kash becomes the command: every signal
 * then reaches it directly and exactly once, and its exit status is the shell's to see.
 * Only from Node 26: on 22 and 24 an execve that fails ends the process at once (a core
 * dump, exit 134) instead of throwing. Returns only when it cannot.
 */
function replaceKash(file: string, args: string[], env: NodeJS.ProcessEnv): void {
  const execve = (process as unknown as { execve?: Execve }).execve;
  if (typeof execve !== 'function' || process.platform === 'win32') return;
  if (Number.parseInt(process.versions.node, 10) < 26) return;
  const path = file.includes('/') ? runnable(file) : onPath(file, env.PATH);
  if (path === undefined) throw cannotStart(file, Object.assign(new Error('not found'), { code: 'ENOENT' }));
  // Node ignores SIGPIPE and SIGXFSZ, and an ignored signal stays ignored across execve;
  // one with a handler is reset to its default there, as the command expects.
  for (const signal of ['SIGPIPE', 'SIGXFSZ'] as const) process.on(signal, () => undefined);
  try {
    execve(path, [file, ...args], env);
  } catch (error) {
    throw cannotStart(file, error);
  }
}

/** A path given as it is: checked as execve would, so that a failure is said, not thrown by Node. */
function runnable(file: string): string | undefined {
  const { accessSync, constants, statSync } = process.getBuiltinModule('node:fs');
  const stat = statSync(file, { throwIfNoEntry: false });
  if (stat === undefined) return undefined;
  if (!stat.isFile()) throw cannotStart(file, Object.assign(new Error('not a file'), { code: 'EACCES' }));
  try {
    accessSync(file, constants.X_OK);
  } catch (error) {
    throw cannotStart(file, error);
  }
  return file;
}

/** The command as a shell's PATH search finds it: the first executable file of that name. */
function onPath(file: string, path = '/usr/local/bin:/usr/bin:/bin'): string | undefined {
  const { accessSync, constants, statSync } = process.getBuiltinModule('node:fs');
  for (const dir of path.split(':')) {
    const candidate = `${dir === '' ? '.' : dir}/${file}`;
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // Not here: the next folder.
    }
  }
  return undefined;
}

function cannotStart(file: string, error: unknown, path?: string): KashError {
  const code = (error as NodeJS.ErrnoException).code;
  // A folder of PATH that cannot be searched makes the lookup say EACCES; a shell says "not found" then, if no folder has it.
  const nowhere = code === 'EACCES' && !file.includes('/') && onPath(file, path) === undefined;
  if (code === 'ENOENT' || nowhere) {
    return new KashError(ExitCode.notFound, `command not found: ${file}`, {
      hint: 'Check the name, or give its path.',
      cause: error,
    });
  }
  return new KashError(ExitCode.cannotRun, `cannot run ${file} (${code ?? 'unknown error'})`, {
    hint: 'Check that it is an executable file.',
    cause: error,
  });
}
