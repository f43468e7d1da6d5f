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

/** What a hint adds to a command line to name this profile: nothing for the default one. */
export const profileFlag = (profile: string) => (profile === 'default' ? '' : ` --profile ${profile}`);

export function notLoggedIn(profile: string, message = `not logged in (profile "${profile}")`): KashError {
  return new KashError(ExitCode.notLoggedIn, message, {
    hint: `Run \`kash login${profileFlag(profile)}\`, or set KASH_APIKEY and KASH_SHOPID.`,
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
