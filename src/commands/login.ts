import { Command } from 'commander';
import { promptForCode, sendCode } from '../auth/code.js';
import { deliver, type Obtained, printFormat } from '../auth/deliver.js';
import { passwordLogin } from '../auth/password.js';
import type { Context, ContextFactory } from '../context.js';
import { profileFlag } from '../credentials.js';
import { usageError } from '../errors.js';
import { ENV_FORMATS } from '../output/env-format.js';
import { examples } from '../output/examples.js';

export interface LoginOptions {
  login?: string | undefined;
  passwordStdin: boolean;
  otp: boolean;
  email?: string | undefined;
  accountId?: string | undefined;
  save: boolean;
  format?: string | undefined;
}

export function loginCommand(context: ContextFactory): Command {
  return new Command('login')
    .helpGroup('Log in and out:')
    .description('log in to kash.click and save the API key and shop ID')
    .option('--login <login>', 'your kash.click login (env: KASH_LOGIN)')
    .option('--password-stdin', 'read the password from standard input (env: KASH_PASSWORD)')
    .option('--otp', 'log in with a one-time code sent by email instead of a password')
    .option('--email <email>', 'with --otp: the account email (env: KASH_EMAIL)')
    .option('--account-id <id>', 'with --otp: which shop, when the email has several (env: KASH_ACCOUNT_ID)')
    .option('--no-save', 'print the credentials on stdout instead of saving them')
    .option('--format <format>', `with --no-save: ${ENV_FORMATS.join(', ')} (default: sh)`)
    .action(
      (
        options: Omit<LoginOptions, 'passwordStdin' | 'otp'> & { passwordStdin?: boolean; otp?: boolean },
        command: Command,
      ) =>
        runLogin(context(command), {
          ...options,
          passwordStdin: options.passwordStdin === true,
          otp: options.otp === true,
        }),
    )
    .addHelpText(
      'after',
      examples(
        ['kash login', 'at a terminal: asks how, then for what it needs'],
        [
          'printf \'%s\\n\' "$PASSWORD" | kash login --login you@example.com --password-stdin',
          'in CI, nothing on the command line',
        ],
        ['kash login --otp --email you@example.com', 'with a code sent by email instead of a password'],
        [
          'eval "$(KASH_PASSWORD=… kash login --login you@example.com --no-save)"',
          'into this shell only, nothing saved',
        ],
      ),
    );
}

export async function runLogin(ctx: Context, options: LoginOptions): Promise<void> {
  const format = printFormat(options.save, options.format);
  if (options.save) await ctx.store().checkWritable();
  const obtained =
    (await chooseMethod(ctx, options)) === 'otp' ? await codeLogin(ctx, options) : await passwordLogin(ctx, options);
  await deliver(ctx, obtained, { save: options.save, format, clearPendingCode: obtained.method === 'otp' });
}

/** With nothing to go on, a person at a terminal is asked; anyone else gets the password way. */
async function chooseMethod(ctx: Context, options: LoginOptions): Promise<'password' | 'otp'> {
  if (options.otp || options.email !== undefined || options.accountId !== undefined) return 'otp';
  const given =
    options.login !== undefined ||
    options.passwordStdin ||
    ['KASH_LOGIN', 'KASH_PASSWORD'].some((name) => ctx.env[name]);
  if (given || !ctx.canPrompt) return 'password';
  const prompter = await ctx.prompter();
  return prompter.choose('How do you want to log in?', [
    { name: 'With my login and password', value: 'password' as const },
    { name: 'With a one-time code sent to my email', value: 'otp' as const },
  ]);
}

async function codeLogin(ctx: Context, options: LoginOptions): Promise<Obtained> {
  const pending = await sendCode(ctx, options, { remember: options.save, setAsideCorrupt: true });
  // No person to type the code: stop, with the request remembered (unless --no-save), rather than hang.
  if (!ctx.canPrompt) {
    const rest = options.save ? '' : ` --email ${pending.email} --no-save`;
    throw usageError(
      'the code was sent, but kash cannot ask for it here (no terminal, or prompting is disabled)',
      `When the email arrives, run: kash otp consume${profileFlag(ctx.settings.profile)}${rest} --otp <code>`,
    );
  }
  return promptForCode(ctx, pending);
}
