import { Command } from 'commander';
import type { Context, ContextFactory } from '../context.js';
import { credentialsFromEnv, effectiveCredentials, notLoggedIn } from '../credentials.js';
import { examples } from '../output/examples.js';
import { writeJson } from '../output/json.js';
import { describeView, effectiveView, type ProfileView, savedView } from '../output/profile-view.js';

export interface WhoamiOptions {
  all: boolean;
}

export function whoamiCommand(context: ContextFactory): Command {
  return new Command('whoami')
    .helpGroup('Use the credentials:')
    .description('show which credentials are in use: shop, login, where they come from; the key masked')
    .option('--all', 'every saved profile')
    .action((options: { all?: boolean }, command: Command) =>
      runWhoami(context(command), { all: options.all === true }),
    )
    .addHelpText(
      'after',
      examples(
        ['kash whoami', 'which shop, which login, where from; the key masked'],
        ['kash whoami --all', 'every saved profile'],
        ['kash whoami --json | jq -r .shopId', 'in a script'],
      ),
    );
}

export async function runWhoami(ctx: Context, options: WhoamiOptions): Promise<void> {
  const views = options.all ? allProfiles(ctx) : [current(ctx)];
  if (ctx.settings.json) {
    writeJson(ctx.io, options.all ? views : views[0]);
    return;
  }
  const file = ctx.store().file;
  const blocks = views.map((view) =>
    describeView(view, view.source === 'env' ? 'environment (KASH_APIKEY and KASH_SHOPID)' : `saved in ${file}`),
  );
  ctx.ui.info(blocks.join('\n\n'));
  if (options.all && credentialsFromEnv(ctx.env)) {
    ctx.ui.warn('KASH_APIKEY and KASH_SHOPID are set: they override every saved profile in this environment');
  }
}

function current(ctx: Context): ProfileView {
  return effectiveView(ctx.settings.profile, effectiveCredentials(ctx), ctx.settings.baseUrl);
}

function allProfiles(ctx: Context): ProfileView[] {
  const views = Object.entries(ctx.store().read().profiles).flatMap(([name, record]) =>
    record.credentials ? [savedView(name, record.credentials)] : [],
  );
  if (views.length === 0) throw notLoggedIn(ctx.settings.profile, 'not logged in: no saved profile');
  return views;
}
