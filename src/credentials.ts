import type { Context } from './context.js';
import { ExitCode, KashError } from './errors.js';
import type { SavedCredentials } from './store/records.js';

export type Effective =
  | { source: 'env'; apiKey: string; shopId: string }
  | { source: 'store'; apiKey: string; shopId: string; saved: SavedCredentials };

/** Both variables set means the environment decides, as the contract says. */
export function credentialsFromEnv(env: NodeJS.ProcessEnv): { apiKey: string; shopId: string } | undefined {
  const apiKey = env.KASH_APIKEY;
  const shopId = env.KASH_SHOPID;
  return apiKey && shopId ? { apiKey, shopId } : undefined;
}

export function notLoggedIn(profile: string): KashError {
  const flag = profile === 'default' ? '' : ` --profile ${profile}`;
  return new KashError(ExitCode.notLoggedIn, `not logged in (profile "${profile}")`, {
    hint: `Run \`kash login${flag}\`, or set KASH_APIKEY and KASH_SHOPID.`,
  });
}

/** The credentials a command should use for the current profile; exit 5 when there are none. */
export function effectiveCredentials(ctx: Context): Effective {
  const fromEnv = credentialsFromEnv(ctx.env);
  if (fromEnv) return { source: 'env', ...fromEnv };
  const saved = ctx.store().read().profiles[ctx.settings.profile]?.credentials;
  if (!saved) throw notLoggedIn(ctx.settings.profile);
  return { source: 'store', apiKey: saved.apiKey, shopId: saved.shopId, saved };
}
