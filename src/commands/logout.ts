import type { Command } from 'commander';
import type { Context } from '../context.js';
import { credentialsFromEnv } from '../credentials.js';
import { ExitCode, KashError } from '../errors.js';
import { kashLine } from '../hints.js';
import { examples } from '../output/examples.js';
import { writeJson } from '../output/json.js';
import type { StoreData } from '../store/records.js';
import type { CommandEntry } from './spec.js';

export interface LogoutOptions {
  all: boolean;
}

export const logoutCommand: CommandEntry = {
  name: 'logout',
  helpGroup: 'Log in and out:',
  description: 'remove saved credentials (logging out when logged out is fine)',
  define: (command, context) =>
    command
      .option('--all', 'remove every saved profile')
      .action(async (options: { all?: boolean }, command: Command) =>
        runLogout(await context(command), { all: options.all === true }),
      )
      .addHelpText(
        'after',
        examples(
          ['kash logout', 'forget the default profile'],
          ['kash logout --profile bakery', 'forget one profile'],
          ['kash logout --all', 'forget every saved profile'],
        ),
      ),
};

export async function runLogout(ctx: Context, options: LogoutOptions): Promise<void> {
  const store = ctx.store();
  const profile = ctx.profile();
  const targets = (data: StoreData) =>
    options.all ? Object.keys(data.profiles) : Object.hasOwn(data.profiles, profile) ? [profile] : [];

  // Keyring items go first, outside the store's lock; a profile whose item the keyring
  // will not remove is kept, so that no key is left behind unnamed.
  const kept = new Map<string, string>();
  for (const name of targets(store.read())) {
    const saved = store.read().profiles[name]?.credentials;
    if (saved?.storage !== 'keyring') continue;
    try {
      await ctx.keyring().remove(saved.keyringId);
    } catch (error) {
      kept.set(name, error instanceof Error ? error.message : String(error));
    }
  }

  let removed: string[] = [];
  // Only take the lock and rewrite when there is something to remove: a logged-out
  // logout must not create a store file.
  if (targets(store.read()).some((name) => !kept.has(name))) {
    await store.update((data) => {
      removed = targets(data).filter((name) => !kept.has(name));
      for (const name of removed) delete data.profiles[name];
      // A default that names nothing would send every command to "not logged in" there.
      if (data.default !== undefined && removed.includes(data.default)) delete data.default;
    });
  }
  if (kept.size > 0) {
    if (removed.length > 0) ctx.ui.success(`Logged out: removed ${removed.map((name) => `"${name}"`).join(', ')}`);
    const [[name, why] = ['', '']] = [...kept];
    throw new KashError(
      ExitCode.store,
      `could not remove the key of profile${kept.size > 1 ? 's' : ''} ${[...kept.keys()].map((n) => `"${n}"`).join(', ')} from the system keyring (${why}); ${kept.size > 1 ? 'they are' : 'it is'} kept`,
      {
        hint: `Start or unlock the keyring, then run ${kashLine('logout', { profile: name, configDirFlag: ctx.settings.configDirFlag })} again.`,
      },
    );
  }

  if (removed.length === 0)
    ctx.ui.info(
      options.all
        ? 'No saved profiles; nothing to remove.'
        : `Not logged in (profile "${profile}"); nothing to remove.`,
    );
  else ctx.ui.success(`Logged out: removed ${removed.map((name) => `"${name}"`).join(', ')} from ${store.file}`);
  if (credentialsFromEnv(ctx.env)) {
    ctx.ui.warn(
      'KASH_APIKEY and KASH_SHOPID are still set in this environment; unset them to stop using those credentials',
    );
  }
  if (ctx.settings.json) writeJson(ctx.io, { removed });
}
