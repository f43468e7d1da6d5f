import { Command } from 'commander';
import { deliver, printFormat } from '../auth/deliver.js';
import type { Obtained } from '../auth/obtained.js';
import { promptForCode, sendCode } from '../auth/otp.js';
import { passwordLogin } from '../auth/password.js';
import type { Context, ContextFactory } from '../context.js';
import { usageError } from '../errors.js';
import { consumeLine } from '../hints.js';
import { ACCOUNT_ID, EMAIL_INPUT, type Given, inputOption, LOGIN, PASSWORD, suppliedBy } from '../inputs.js';
import { ENV_FORMATS } from '../output/env-format.js';
import { examples } from '../output/examples.js';

export interface LoginOptions extends Given {
  login?: string | undefined;
  passwordStdin?: boolean | undefined;
  otp?: boolean | undefined;
  email?: string | undefined;
  accountId?: string | undefined;
  save: boolean;
  format?: string | undefined;
}

export function loginCommand(context: ContextFactory): Command {
  return new Command('login')
    .helpGroup('Log in and out:')
    .description('log in to kash.click and save the API key and shop ID')
    .addOption(inputOption(LOGIN))
    .addOption(inputOption(PASSWORD))
    .option('--otp', 'log in with a one-time code sent by email instead of a password')
    .addOption(inputOption(EMAIL_INPUT, 'with --otp: the account email'))
    .addOption(inputOption(ACCOUNT_ID, 'with --otp: which shop, when the email has several'))
    .option('--no-save', 'print the credentials on stdout instead of saving them')
    .option('--format <format>', `with --no-save: ${ENV_FORMATS.join(', ')} (default: sh)`)
    .action(async (options: LoginOptions, command: Command) => runLogin(await context(command), options))
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
  // Nothing is sent before kash knows it can keep what comes back.
  const prove = async () => {
    if (options.save) await ctx.store().proveSaveable();
  };
  const obtained =
    (await chooseMethod(ctx, options)) === 'otp'
      ? await codeLogin(ctx, options, prove)
      : await passwordLogin(ctx, options, prove);
  await deliver(ctx, obtained, { save: options.save, format, clearPendingCode: obtained.method === 'otp' });
}

/** With nothing to go on, a person at a terminal is asked; anyone else gets the password way. */
async function chooseMethod(ctx: Context, options: LoginOptions): Promise<'password' | 'otp'> {
  if (options.otp || [EMAIL_INPUT, ACCOUNT_ID].some((input) => suppliedBy(ctx, input, options) === 'flag')) {
    return 'otp';
  }
  const given = [LOGIN, PASSWORD].some((input) => suppliedBy(ctx, input, options) !== undefined);
  if (given || !ctx.canPrompt) return 'password';
  const prompter = await ctx.prompter();
  return prompter.choose('How do you want to log in?', [
    { name: 'With my login and password', value: 'password' as const },
    { name: 'With a one-time code sent to my email', value: 'otp' as const },
  ]);
}

async function codeLogin(ctx: Context, options: LoginOptions, prove: () => Promise<void>): Promise<Obtained> {
  const pending = await sendCode(ctx, options, { remember: options.save, setAsideCorrupt: true, beforeSending: prove });
  // No person to type the code: stop, with the request remembered (unless --no-save), rather than hang.
  if (!ctx.canPrompt) {
    throw usageError(
      'the code was sent, but kash cannot ask for it here (no terminal, or prompting is disabled)',
      `When the email arrives, run: ${consumeLine(ctx.profile(), options.save, pending.email)}`,
    );
  }
  return promptForCode(ctx, pending);
}
