import { Command } from 'commander';
import { deliver } from '../auth/deliver.js';
import { passwordLogin } from '../auth/password.js';
import type { Context, ContextFactory } from '../context.js';
import { usageError } from '../errors.js';
import { ENV_FORMATS, parseEnvFormat } from '../output/env-format.js';

export interface LoginOptions {
  login?: string;
  passwordStdin: boolean;
  save: boolean;
  format?: string;
}

export function loginCommand(context: ContextFactory): Command {
  return new Command('login')
    .description('log in to kash.click and save the API key and shop ID')
    .option('--login <login>', 'your kash.click login (env: KASH_LOGIN)')
    .option('--password-stdin', 'read the password from standard input (env: KASH_PASSWORD)')
    .option('--no-save', 'print the credentials on stdout instead of saving them')
    .option('--format <format>', `with --no-save: ${ENV_FORMATS.join(', ')} (default: sh)`)
    .action((options: { login?: string; passwordStdin?: boolean; save: boolean; format?: string }, command: Command) =>
      runLogin(context(command), { ...options, passwordStdin: options.passwordStdin === true }),
    );
}

export async function runLogin(ctx: Context, options: LoginOptions): Promise<void> {
  if (options.format !== undefined && options.save) {
    throw usageError('--format goes with --no-save', 'Saved credentials are printed later with `kash env --format <format>`.');
  }
  const format = parseEnvFormat(options.format ?? 'sh');
  const obtained = await passwordLogin(ctx, options);
  await deliver(ctx, obtained, { save: options.save, format });
}
