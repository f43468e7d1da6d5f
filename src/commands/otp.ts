import type { Command } from 'commander';
import { deliver, printFormat } from '../auth/deliver.js';
import type { Obtained } from '../auth/obtained.js';
import { exchangeCode, promptForCode, sendCode } from '../auth/otp.js';
import { decideStorage, refuseStorageWithoutSave } from '../auth/storage.js';
import { completeFrom } from '../completion/complete.js';
import type { Context } from '../context.js';
import { usageError } from '../errors.js';
import { type ConsumeFlags, consumeLine, kashLine } from '../hints.js';
import { ACCOUNT_ID, CODE, EMAIL_INPUT, type Given, gather, inputOption, STORAGE, suppliedBy } from '../inputs.js';
import { ENV_FORMATS } from '../output/env-format.js';
import { examples } from '../output/examples.js';
import { writeJson } from '../output/json.js';
import type { CommandEntry } from './spec.js';

export interface OtpRequestOptions extends Given {
  email?: string | undefined;
  accountId?: string | undefined;
}

export interface OtpConsumeOptions extends Given {
  email?: string | undefined;
  otp?: string | undefined;
  save: boolean;
  format?: string | undefined;
}

export const otpCommand: CommandEntry = {
  name: 'otp',
  helpGroup: 'Log in and out:',
  description: 'log in in two steps with a one-time code sent by email (for scripts and remote machines)',
  define(otp, context) {
    otp.addHelpText(
      'after',
      examples(
        ['kash otp request --email you@example.com --account-id 123', 'the service emails a code'],
        ['kash otp consume', 'asks for the code, or reads it from --otp, KASH_OTP or a pipe'],
      ),
    );
    otp
      .command('request')
      .description('email a one-time code, and remember the request for `kash otp consume`')
      .addOption(inputOption(EMAIL_INPUT))
      .addOption(inputOption(ACCOUNT_ID))
      .action(async (options: OtpRequestOptions, command: Command) => runOtpRequest(await context(command), options))
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
      .addOption(inputOption(EMAIL_INPUT, 'the account email; default: the one of the pending request'))
      .addOption(inputOption(CODE))
      .addOption(completeFrom(inputOption(STORAGE), ['auto', 'keyring', 'file']))
      .option('--no-save', 'print the credentials on stdout instead of saving them')
      .option('--format <format>', `with --no-save: ${ENV_FORMATS.join(', ')} (default: sh)`)
      .action(async (options: OtpConsumeOptions, command: Command) => runOtpConsume(await context(command), options))
      .addHelpText(
        'after',
        examples(
          ['kash otp consume', 'at a terminal: asks for the code'],
          ['kash otp consume --otp 123456', 'in a script, once the email has arrived'],
          ['eval "$(kash otp consume --otp 123456 --no-save)"', 'into this shell only, nothing saved'],
        ),
      );
    return otp;
  },
};

export async function runOtpRequest(ctx: Context, options: OtpRequestOptions): Promise<void> {
  const pending = await sendCode(ctx, options, {
    remember: true,
    format: undefined,
    setAsideCorrupt: false,
    // A corrupt or unwritable store stops us before the email goes out, not after.
    beforeSending: async () => {
      ctx.store().read();
      await ctx.store().proveSaveable();
    },
  });
  ctx.ui.hint(`Next, when the email arrives: ${kashLine('otp consume', ctx.scope())}`);
  if (ctx.settings.json) {
    writeJson(ctx.io, { email: pending.email, accountId: pending.accountId, sentAt: pending.requestedAt });
  }
}

export async function runOtpConsume(ctx: Context, options: OtpConsumeOptions): Promise<void> {
  const format = printFormat(options.save, options.format);
  refuseStorageWithoutSave(ctx, options, options.save);
  const profile = ctx.profile();
  const { baseUrl } = ctx.settings.network();
  const pending = ctx.store().read().profiles[profile]?.pendingCode;
  let email: string;
  if (suppliedBy(ctx, EMAIL_INPUT, options) !== undefined) email = await gather(ctx, EMAIL_INPUT, options);
  else if (pending) email = pending.email;
  else {
    const scope = ctx.scope();
    const withEmail = { email: 'you@example.com', save: options.save, format: options.format };
    throw usageError(
      `no code request is pending for profile "${profile}", and no email was given`,
      `Start with \`${kashLine('otp request', scope, ' --email you@example.com')}\`, or give the email the code was sent to: \`${consumeLine(scope, withEmail)}\`.`,
    );
  }
  const matching = pending && sameEmail(pending.email, email) ? pending : undefined;
  if (matching && matching.baseUrl !== baseUrl) {
    throw usageError(
      `the code for ${email} was requested from ${matching.baseUrl}, not ${baseUrl}`,
      `Consume it with --base-url ${matching.baseUrl}, or request a new code from ${baseUrl}.`,
    );
  }
  const shopTitle = matching?.shopTitle ?? null;
  // The remembered request stays until a code is accepted, so a retry needs the email only without it.
  const retry: ConsumeFlags = { email: matching ? undefined : email, save: options.save, format: options.format };
  // A code is good once: learn that it could not be saved, or where, before spending it.
  let storage: 'keyring' | 'file' = 'file';
  const prove = async () => {
    if (!options.save) return;
    await ctx.store().proveSaveable();
    storage = await decideStorage(ctx, options);
  };
  let obtained: Obtained;
  if (suppliedBy(ctx, CODE, options) === undefined && ctx.canPrompt) {
    // Typed at a terminal: three tries, as `login --otp` gives.
    await prove();
    obtained = await promptForCode(ctx, { email, shopTitle }, retry);
  } else {
    const code = await gather(ctx, CODE, options, `Code from the email sent to ${email}:`);
    await prove();
    obtained = await exchangeCode(ctx, email, code, shopTitle, retry);
  }
  await deliver(ctx, obtained, { save: options.save, format, storage, clearPendingCode: true });
}

const sameEmail = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
