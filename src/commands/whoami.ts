import type { Context } from '../context.js';
import { credentialsFromEnv, credentialsInEffect, notLoggedIn } from '../credentials.js';
import { writeJson } from '../output/json.js';
import { describeView, environmentView, type ProfileView, savedView } from '../output/profile-view.js';
import type { CommandSpec } from './spec.js';

export interface WhoamiOptions {
  all: boolean;
}

export const whoamiCommand: CommandSpec<{ all?: boolean }> = {
  name: 'whoami',
  helpGroup: 'Use the credentials:',
  description: 'show which credentials are in use: shop, login, where they come from; the key masked',
  options: [{ flags: '--all', description: 'every saved profile' }],
  examples: [
    ['kash whoami', 'which shop, which login, where from; the key masked'],
    ['kash whoami --all', 'every saved profile'],
    ['kash whoami --json | jq -r .shopId', 'in a script'],
  ],
  run: (ctx, options) => runWhoami(ctx, { all: options.all === true }),
};

export async function runWhoami(ctx: Context, options: WhoamiOptions): Promise<void> {
  if (options.all) return allProfiles(ctx);
  const effective = credentialsInEffect(ctx);
  const view =
    effective.source === 'env'
      ? // Shown with the base URL setting; an unusable one is not whoami's to refuse.
        environmentView(ctx.profile(), effective.apiKey, effective.shopId, networkBaseUrl(ctx))
      : savedView(effective.profile, effective.saved, effective.profile === defaultName(ctx));
  show(ctx, [view]);
  if (ctx.settings.json) writeJson(ctx.io, view);
}

/** The query's result goes to stdout (`kash whoami | grep Shop`); JSON instead of it with --json. */
function show(ctx: Context, views: ProfileView[]): void {
  if (ctx.settings.json) return;
  const file = ctx.store().file;
  const blocks = views.map((view) =>
    describeView(view, view.source === 'env' ? 'environment (KASH_APIKEY and KASH_SHOPID)' : `saved in ${file}`),
  );
  ctx.io.stdout.write(`${blocks.join('\n\n')}\n`);
}

/** The profile commands without --profile or KASH_PROFILE use. */
const defaultName = (ctx: Context) => ctx.store().defaultProfile() ?? 'default';

function networkBaseUrl(ctx: Context): string | null {
  try {
    return ctx.settings.network().baseUrl;
  } catch {
    return null;
  }
}

function allProfiles(ctx: Context): void {
  const byDefault = defaultName(ctx);
  const views = Object.entries(ctx.store().read().profiles).flatMap(([name, record]) =>
    record.credentials ? [savedView(name, record.credentials, name === byDefault)] : [],
  );
  if (ctx.settings.json) writeJson(ctx.io, views);
  if (views.length === 0) throw notLoggedIn(ctx, 'not logged in: no saved profile');
  show(ctx, views);
  if (credentialsFromEnv(ctx.env)) {
    ctx.ui.warn(
      'KASH_APIKEY and KASH_SHOPID are set: commands run here without --profile use them, not a saved profile',
    );
  }
}
