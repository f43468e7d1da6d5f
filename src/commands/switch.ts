import { Argument, type Command } from 'commander';
import { completeFrom } from '../completion/complete.js';
import type { Context } from '../context.js';
import { credentialsFromEnv } from '../credentials.js';
import { ExitCode, KashError, usageError } from '../errors.js';
import { kashLine } from '../hints.js';
import { examples } from '../output/examples.js';
import { writeJson } from '../output/json.js';
import { parseProfileName, variable } from '../settings.js';
import type { CommandEntry } from './spec.js';

export interface SwitchOptions {
  profile: string | undefined;
}

export const switchCommand: CommandEntry = {
  name: 'switch',
  helpGroup: 'Log in and out:',
  description: 'make a saved profile the default, used when neither --profile nor KASH_PROFILE names one',
  define: (command, context) =>
    command
      .addArgument(
        completeFrom(new Argument('[profile]', 'the saved profile; at a terminal, asked when left out'), 'profiles'),
      )
      .action(async (profile: string | undefined, _options: unknown, command: Command) =>
        runSwitch(await context(command), { profile }),
      )
      .addHelpText(
        'after',
        examples(
          ['kash switch bakery', 'commands without --profile now use "bakery"'],
          ['kash switch', 'at a terminal: pick from the saved profiles'],
          ['kash switch default', 'back to the profile named "default"'],
        ),
      ),
};

export async function runSwitch(ctx: Context, options: SwitchOptions): Promise<void> {
  const store = ctx.store();
  const data = store.read();
  const saved = Object.keys(data.profiles)
    .filter((name) => data.profiles[name]?.credentials)
    .sort();
  const listed =
    saved.length > 0
      ? `Saved profiles: ${saved.join(', ')}.`
      : `No profile is saved yet: ${kashLine('login', { profile: 'default', configDirFlag: ctx.settings.configDirFlag })}.`;
  let target = options.profile === undefined ? undefined : parseProfileName(options.profile);
  if (target === undefined) {
    if (saved.length === 0)
      throw new KashError(ExitCode.notLoggedIn, 'no saved profile to switch to', { hint: listed });
    if (!ctx.canPrompt) throw usageError('say which profile to make the default: kash switch <profile>', listed);
    const prompter = await ctx.prompter();
    target = await prompter.choose(
      'Which profile should commands use by default?',
      saved.map((name) => {
        const credentials = data.profiles[name]?.credentials;
        const shop = credentials
          ? ` (shop ${credentials.shopId}${credentials.shopTitle ? `, ${credentials.shopTitle}` : ''})`
          : '';
        return { name: `${name}${shop}`, value: name };
      }),
    );
  }
  const chosen = target;
  if (!saved.includes(chosen)) {
    throw new KashError(ExitCode.notLoggedIn, `no saved profile "${chosen}"`, { hint: listed });
  }
  await store.update((current) => {
    // "default" is what an unset default means; the store says nothing then.
    if (chosen === 'default') delete current.default;
    else current.default = chosen;
  });
  ctx.ui.success(`Commands without --profile now use profile "${chosen}"`);
  const named = variable(ctx.env, 'KASH_PROFILE');
  if (named !== undefined && named !== chosen)
    ctx.ui.warn(`KASH_PROFILE is set to "${named}" here, and goes before the default`);
  if (credentialsFromEnv(ctx.env)) ctx.ui.warn('KASH_APIKEY and KASH_SHOPID are set here, and go before the default');
  if (ctx.settings.json) writeJson(ctx.io, { default: chosen });
}
