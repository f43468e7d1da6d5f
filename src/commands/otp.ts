import { Command } from 'commander';
import { askEmail, exchangeCode, normaliseCode, sendCode } from '../auth/code.js';
import { deliver, printFormat } from '../auth/deliver.js';
import type { Context, ContextFactory } from '../context.js';
import { profileFlag } from '../credentials.js';
import { usageError } from '../errors.js';
import { gather, readLine } from '../inputs.js';
import { ENV_FORMATS } from '../output/env-format.js';
import { examples } from '../output/examples.js';
import { writeJson } from '../output/json.js';

export interface OtpRequestOptions {
  email?: string | undefined;
  accountId?: string | undefined;
}

export interface OtpConsumeOptions {
  email?: string | undefined;
  otp?: string | undefined;
  save: boolean;
  format?: string | undefined;
}

export function otpCommand(context: ContextFactory): Command {
  const otp = new Command('otp')
    .helpGroup('Log in and out:')
    .description('log in in two steps with a one-time code sent by email (for scripts and remote machines)')
    .addHelpText(
      'after',
      examples(
        ['kash otp request --email you@example.com --account-id 123', 'the service emails a code'],
        ['kash otp consume', 'asks for the code, or reads it from --otp, KASH_OTP or a pipe'],
      ),
    );
  otp
    .command('request')
    .description('email a one-time code, and remember the request for `kash otp consume`')
    .option('--email <email>', 'the account email (env: KASH_EMAIL)')
    .option('--account-id <id>', 'which shop, when the email has several (env: KASH_ACCOUNT_ID)')
    .action((options: OtpRequestOptions, command: Command) => runOtpRequest(context(command), options))
    .addHelpText(
      'after',
      examples(
        ['kash otp request --email you@example.com', 'one shop: the code is for it'],
        [
          'kash otp request --email you@example.com --account-id 123',
          'several shops: say which (kash shops lists them)',
        ],
      ),
    );
  otp
    .command('consume')
    .description('trade the emailed code for the API key and shop ID, and save them')
    .option('--email <email>', 'the account email; default: the one of the pending request (env: KASH_EMAIL)')
    .option('--otp <code>', 'the code; otherwise KASH_OTP, standard input when it is not a terminal, or a prompt')
    .option('--no-save', 'print the credentials on stdout instead of saving them')
    .option('--format <format>', `with --no-save: ${ENV_FORMATS.join(', ')} (default: sh)`)
    .action((options: OtpConsumeOptions, command: Command) => runOtpConsume(context(command), options))
    .addHelpText(
      'after',
      examples(
        ['kash otp consume', 'at a terminal: asks for the code'],
        ['kash otp consume --otp 123456', 'in a script, once the email has arrived'],
        ['eval "$(kash otp consume --otp 123456 --no-save)"', 'into this shell only, nothing saved'],
      ),
    );
  return otp;
}

export async function runOtpRequest(ctx: Context, options: OtpRequestOptions): Promise<void> {
  // A corrupt or unwritable store stops us before the email goes out, not after.
  ctx.store().read();
  await ctx.store().checkWritable();
  const pending = await sendCode(ctx, options, { remember: true, setAsideCorrupt: false });
  ctx.ui.hint(`Next, when the email arrives: kash otp consume${profileFlag(ctx.settings.profile)}`);
  if (ctx.settings.json)
    writeJson(ctx.io, { email: pending.email, accountId: pending.accountId, sentAt: pending.requestedAt });
}

export async function runOtpConsume(ctx: Context, options: OtpConsumeOptions): Promise<void> {
  const format = printFormat(options.save, options.format);
  const { profile, baseUrl } = ctx.settings;
  const pending = ctx.store().read().profiles[profile]?.pendingCode;
  const explicit = options.email ?? (ctx.env.KASH_EMAIL || undefined);
  let email: string;
  if (explicit !== undefined) email = await askEmail(ctx, explicit);
  else if (pending) email = pending.email;
  else {
    throw usageError(
      `no code request is pending for profile "${profile}", and no email was given`,
      'Start with `kash otp request --email you@example.com`, or pass --email to this command.',
    );
  }
  const matching = pending && sameEmail(pending.email, email) ? pending : undefined;
  if (matching && matching.baseUrl !== baseUrl) {
    throw usageError(
      `the code for ${email} was requested from ${matching.baseUrl}, not ${baseUrl}`,
      `Consume it with --base-url ${matching.baseUrl}, or request a new code from ${baseUrl}.`,
    );
  }
  const code = normaliseCode(await codeFrom(ctx, options.otp, email));
  // A code is good once: learn that it could not be saved before spending it.
  if (options.save) await ctx.store().checkWritable();
  const obtained = await exchangeCode(ctx, email, code, matching?.shopTitle ?? null);
  await deliver(ctx, obtained, { save: options.save, format, clearPendingCode: true });
}

const sameEmail = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** --otp, KASH_OTP, a pipe, or a prompt: in that order. */
async function codeFrom(ctx: Context, given: string | undefined, email: string): Promise<string> {
  if (given === undefined && !ctx.env.KASH_OTP && !ctx.io.stdinIsTTY) {
    return readLine(ctx.io.stdin, 'code', 'Pass --otp <code>, set KASH_OTP, or pipe the code on standard input.');
  }
  return gather(ctx, {
    label: 'code',
    flag: '--otp <code>',
    variable: 'KASH_OTP',
    given,
    ask: (prompter) => prompter.text(`Code from the email sent to ${email}:`),
  });
}
