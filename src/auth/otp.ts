import type { Shop } from '../api/answers.js';
import type { ServiceClient } from '../api/client.js';
import { setCancelNotice } from '../cancel.js';
import type { Context } from '../context.js';
import { ExitCode, KashError, usageError } from '../errors.js';
import { type ConsumeFlags, consumeLine } from '../hints.js';
import { ACCOUNT_ID, CODE, EMAIL_INPUT, type Given, gather, optionalInput, promptCheck } from '../inputs.js';
import type { PendingCode } from '../store/records.js';
import type { Obtained } from './obtained.js';

/**
 * Which shop the code is for: the one given, the only one, or the person's pick. A script
 * facing several shops must say which, rather than get a code for a shop it did not mean.
 */
async function chooseShop(
  ctx: Context,
  client: ServiceClient,
  email: string,
  accountId: string | undefined,
): Promise<Shop | undefined> {
  if (accountId !== undefined) return undefined;
  const shops = await ctx.ui.spin('Looking up your shops…', () => client.listShops(email));
  if (shops.length === 1) return shops[0];
  if (!ctx.canPrompt) {
    const listed = shops.map((shop) => `${shop.accountId}${shop.title ? ` (${shop.title})` : ''}`).join(', ');
    throw usageError(
      `${email} has ${shops.length} shops; say which one the code is for`,
      `Pass --account-id <id> (or set KASH_ACCOUNT_ID), one of: ${listed}.`,
    );
  }
  const prompter = await ctx.prompter();
  return prompter.choose(
    'Which shop?',
    shops.map((shop) => ({ name: `${shop.title || '(untitled)'}  [${shop.accountId}]`, value: shop })),
  );
}

export interface SendCodeOptions {
  /** Keep the request in the profile, so `otp consume` needs no flags (not with --no-save). */
  remember: boolean;
  /** With --no-save, the --format the finishing `otp consume` must repeat. */
  format: string | undefined;
  /** A login sets a corrupt store aside; `otp request` on its own stops at it. */
  setAsideCorrupt: boolean;
  /** Runs once the inputs are gathered, before the email goes out: it must not go out for nothing. */
  beforeSending: () => Promise<void>;
}

/** The flags of the `otp consume` that finishes a request: with nothing remembered, its email and --no-save. */
export const finishing = (how: Pick<SendCodeOptions, 'remember' | 'format'>, email: string): ConsumeFlags => ({
  email: how.remember ? undefined : email,
  save: how.remember,
  format: how.format,
});

/** Asks the service to email a code, and remembers the request unless told not to. */
export async function sendCode(ctx: Context, given: Given, how: SendCodeOptions): Promise<PendingCode> {
  const email = await gather(ctx, EMAIL_INPUT, given);
  const accountId = await optionalInput(ctx, ACCOUNT_ID, given);
  await how.beforeSending();
  const client = await ctx.client();
  const shop = await chooseShop(ctx, client, email, accountId);
  await ctx.ui.spin('Sending the code…', () =>
    client.requestCode(email, shop ?? (accountId ? { accountId, otpLink: null } : undefined)),
  );
  const pending: PendingCode = {
    email,
    accountId: shop?.accountId ?? accountId ?? null,
    shopTitle: shop?.title || null,
    baseUrl: ctx.settings.network().baseUrl,
    requestedAt: new Date().toISOString(),
  };
  const profile = ctx.profile();
  if (how.remember) {
    await ctx.store().update(
      (data) => {
        data.profiles[profile] = { ...data.profiles[profile], pendingCode: pending };
      },
      { setAsideCorrupt: how.setAsideCorrupt },
    );
  }
  const where = pending.shopTitle ? ` for ${pending.shopTitle}` : '';
  ctx.ui.success(`Sent a one-time code${where} to ${email}`);
  setCancelNotice(
    how.remember
      ? `cancelled; the saved credentials are unchanged, and the code request for ${email} is remembered`
      : `cancelled; nothing was saved, but a code was sent to ${email}`,
    `When the email arrives, finish with: ${consumeLine(ctx.scope(), finishing(how, email))}`,
  );
  return pending;
}

/**
 * The code for the credentials. A refusal says how to try again: a mistyped code can be
 * typed once more with `retry`'s line, which repeats what this user gave.
 */
export async function exchangeCode(
  ctx: Context,
  email: string,
  code: string,
  shopTitle: string | null,
  retry: ConsumeFlags,
): Promise<Obtained> {
  const client = await ctx.client();
  try {
    const credentials = await ctx.ui.spin('Checking the code…', () => client.loginWithCode(email, code));
    return { credentials, method: 'otp', login: null, email, shopTitle };
  } catch (error) {
    if (!(error instanceof KashError) || error.exitCode !== ExitCode.refused) throw error;
    throw new KashError(ExitCode.refused, error.message, {
      hint: `If the code was mistyped, try it again: ${consumeLine(ctx.scope(), retry)}; or request a new one.`,
      cause: error,
    });
  }
}

const TRIES = 3;

/** A person gets three tries at typing the code; each wrong one is said plainly, the last with how to try again. */
export async function promptForCode(
  ctx: Context,
  pending: Pick<PendingCode, 'email' | 'shopTitle'>,
  retry: ConsumeFlags,
): Promise<Obtained> {
  const prompter = await ctx.prompter();
  for (let attempt = 1; ; attempt++) {
    // A typo (a letter too many, a stray sign) is caught at the prompt, not counted as a try.
    const typed = await prompter.text(`Code from the email sent to ${pending.email}:`, promptCheck(CODE));
    try {
      return await exchangeCode(ctx, pending.email, CODE.check(typed.trim()), pending.shopTitle, retry);
    } catch (error) {
      if (!(error instanceof KashError) || error.exitCode !== ExitCode.refused || attempt === TRIES) throw error;
      const left = TRIES - attempt;
      ctx.ui.warn(`${error.message}; ${left} ${left === 1 ? 'try' : 'tries'} left`);
    }
  }
}
