import { Command } from 'commander';
import type { Context, ContextFactory } from '../context.js';
import { credentialsFromEnv } from '../credentials.js';
import { examples } from '../output/examples.js';
import { writeJson } from '../output/json.js';

export interface LogoutOptions {
  all: boolean;
}

export function logoutCommand(context: ContextFactory): Command {
  return new Command('logout')
    .helpGroup('Log in and out:')
    .description('remove saved credentials (logging out when logged out is fine)')
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
    );
}

export async function runLogout(ctx: Context, options: LogoutOptions): Promise<void> {
  const store = ctx.store();
  const profile = ctx.profile();
  const targets = (data: { profiles: Record<string, unknown> }) =>
    options.all ? Object.keys(data.profiles) : Object.hasOwn(data.profiles, profile) ? [profile] : [];

  let removed: string[] = [];
  // Only take the lock and rewrite when there is something to remove: a logged-out
  // logout must not create a store file.
  if (targets(store.read()).length > 0) {
    await store.update((data) => {
      removed = targets(data);
      for (const name of removed) delete data.profiles[name];
      // A default that names nothing would send every command to "not logged in" there.
      if (data.default !== undefined && removed.includes(data.default)) delete data.default;
    });
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
