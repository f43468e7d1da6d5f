import type { Command } from 'commander';
import { deliver, printFormat } from '../auth/deliver.js';
import { keyLogin } from '../auth/key.js';
import type { Obtained } from '../auth/obtained.js';
import { finishing, promptForCode, sendCode } from '../auth/otp.js';
import { passwordLogin } from '../auth/password.js';
import { decideStorage, refuseStorageWithoutSave } from '../auth/storage.js';
import { completeFrom } from '../completion/complete.js';
import type { Context } from '../context.js';
import { usageError } from '../errors.js';
import { consumeLine } from '../hints.js';
import {
  ACCOUNT_ID,
  API_KEY,
  EMAIL_INPUT,
  type Given,
  type Input,
  inputOption,
  LOGIN,
  PASSWORD,
  SHOP_ID,
  STORAGE,
  suppliedBy,
} from '../inputs.js';
import { ENV_FORMATS } from '../output/env-format.js';
import { examples } from '../output/examples.js';
import type { CommandEntry } from './spec.js';

export interface LoginOptions extends Given {
  login?: string | undefined;
  passwordStdin?: boolean | undefined;
  otp?: boolean | undefined;
  email?: string | undefined;
  accountId?: string | undefined;
  apiKeyStdin?: boolean | undefined;
  shopId?: string | undefined;
  storage?: string | undefined;
  save: boolean;
  format?: string | undefined;
}

export const loginCommand: CommandEntry = {
  name: 'login',
  helpGroup: 'Log in and out:',
  description: 'log in to kash.click and save the API key and shop ID',
  define: (command, context) =>
    command
      .addOption(inputOption(LOGIN))
      .addOption(inputOption(PASSWORD))
      .option('--otp', 'log in with a one-time code sent by email instead of a password')
      .addOption(inputOption(EMAIL_INPUT, 'with --otp: the account email'))
      .addOption(inputOption(ACCOUNT_ID, 'with --otp: which shop, when the email has several'))
      .addOption(inputOption(API_KEY))
      .addOption(inputOption(SHOP_ID))
      .addOption(completeFrom(inputOption(STORAGE), ['auto', 'keyring', 'file']))
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
            'printf \'%s\\n\' "$KEY" | kash login --api-key-stdin --shop-id 42',
            'with a key copied from the back office: Configuration → Webservices',
          ],
          [
            'eval "$(KASH_PASSWORD=… kash login --login you@example.com --no-save)"',
            'into this shell only, nothing saved',
          ],
        ),
      ),
};

export async function runLogin(ctx: Context, options: LoginOptions): Promise<void> {
  const format = printFormat(options.save, options.format);
  refuseStorageWithoutSave(ctx, options, options.save);
  // Nothing is sent (or, for a pasted key, saved) before kash knows it can keep it, and where.
  let storage: 'keyring' | 'file' = 'file';
  const prove = async () => {
    if (!options.save) return;
    await ctx.store().proveSaveable();
    storage = await decideStorage(ctx, options);
  };
  const way = await chooseWay(ctx, options);
  const obtained =
    way === 'otp'
      ? await codeLogin(ctx, options, prove)
      : way === 'key'
        ? await keyLogin(ctx, options, prove)
        : await passwordLogin(ctx, options, prove);
  await deliver(ctx, obtained, { save: options.save, format, storage, clearPendingCode: obtained.method === 'otp' });
}

type Way = 'password' | 'otp' | 'key';

/** What gives each way away, and the secret that belongs to it alone. */
const WAYS: Record<Way, { flags: Input[]; variables: Input[]; secret?: Input }> = {
  password: { flags: [LOGIN, PASSWORD], variables: [LOGIN, PASSWORD], secret: PASSWORD },
  otp: { flags: [EMAIL_INPUT, ACCOUNT_ID], variables: [EMAIL_INPUT, ACCOUNT_ID] },
  key: { flags: [API_KEY, SHOP_ID], variables: [], secret: API_KEY },
};

const flagName = (input: Input) => input.flag.split(' ')[0] ?? input.flag;

/**
 * Flags choose the way; without any, the variables (a password's first, so that an
 * exported KASH_EMAIL never turns a password login into a code one); without those, a
 * person is asked, and a script gets the password way and is told what it lacks. Two
 * ways at once, or a secret for a way not chosen, is a usage error naming both.
 */
async function chooseWay(ctx: Context, options: LoginOptions): Promise<Way> {
  const named = (way: Way): string | undefined =>
    way === 'otp' && options.otp
      ? '--otp'
      : WAYS[way].flags
          .map((input) => (suppliedBy(ctx, input, options) === 'flag' ? flagName(input) : undefined))
          .find(Boolean);
  const byFlags = (Object.keys(WAYS) as Way[]).flatMap((way) => {
    const flag = named(way);
    return flag ? [{ way, by: flag }] : [];
  });
  if (byFlags.length > 1) {
    throw usageError(
      `${byFlags[0]?.by} and ${byFlags[1]?.by} are two different ways of logging in`,
      'Give the options of one: a login and password, a code by email (--otp), or a pasted key (--api-key-stdin).',
    );
  }
  const chosen =
    byFlags[0] ??
    (['password', 'otp'] as const)
      .map((way) => ({ way, by: WAYS[way].variables.find((input) => suppliedBy(ctx, input, options))?.variable }))
      .find(({ by }) => by !== undefined);
  if (chosen) {
    for (const [way, { secret }] of Object.entries(WAYS) as Array<[Way, (typeof WAYS)[Way]]>) {
      const by = secret && way !== chosen.way ? suppliedBy(ctx, secret, options) : undefined;
      if (!secret || !by) continue;
      const given = by === 'flag' ? flagName(secret) : secret.variable;
      throw usageError(
        `${given} gives a ${secret.label}, but ${chosen.by} asks for another way of logging in`,
        `Drop one of them${by === 'variable' ? ` (unset ${given})` : ''}; nothing was sent.`,
      );
    }
    return chosen.way;
  }
  if (!ctx.canPrompt) return 'password';
  const prompter = await ctx.prompter();
  return prompter.choose('How do you want to log in?', [
    { name: 'With my login and password', value: 'password' as const },
    { name: 'With a one-time code sent to my email', value: 'otp' as const },
    { name: 'Paste an API key from Configuration → Webservices', value: 'key' as const },
  ]);
}

async function codeLogin(ctx: Context, options: LoginOptions, prove: () => Promise<void>): Promise<Obtained> {
  const how = { remember: options.save, format: options.format, setAsideCorrupt: true, beforeSending: prove };
  const pending = await sendCode(ctx, options, how);
  // No person to type the code: stop, with the request remembered (unless --no-save), rather than hang.
  if (!ctx.canPrompt) {
    throw usageError(
      `the code was sent, but kash cannot ask for it here (${ctx.cannotPromptBecause})`,
      `When the email arrives, run: ${consumeLine(ctx.scope(), finishing(how, pending.email))}`,
    );
  }
  return promptForCode(ctx, pending, finishing(how, pending.email));
}
