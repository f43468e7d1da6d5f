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
    .action(async (options: { all?: boolean }, command: Command) =>
      runWhoami(await context(command), { all: options.all === true }),
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
  const effective = effectiveCredentials(ctx);
  // Only environment credentials are shown with the base URL setting; an unusable one is not whoami's to refuse.
  const baseUrl = effective.source === 'env' ? networkBaseUrl(ctx) : null;
  return effectiveView(ctx.profile(), effective, baseUrl);
}

function networkBaseUrl(ctx: Context): string | null {
  try {
    return ctx.settings.network().baseUrl;
  } catch {
    return null;
  }
}

function allProfiles(ctx: Context): ProfileView[] {
  const views = Object.entries(ctx.store().read().profiles).flatMap(([name, record]) =>
    record.credentials ? [savedView(name, record.credentials)] : [],
  );
  if (views.length === 0) throw notLoggedIn(ctx.profile(), 'not logged in: no saved profile');
  return views;
}
