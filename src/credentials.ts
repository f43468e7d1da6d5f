import type { Context } from './context.js';
import { ExitCode, KashError } from './errors.js';
import { loginHint, profileFlag } from './hints.js';
import { variable } from './settings.js';
import type { SavedCredentials } from './store/records.js';

export type Effective =
  | { source: 'env'; apiKey: string; shopId: string }
  | { source: 'store'; apiKey: string; shopId: string; saved: SavedCredentials };

/** Both variables set means the environment decides, as the contract says. */
export function credentialsFromEnv(env: NodeJS.ProcessEnv): { apiKey: string; shopId: string } | undefined {
  const apiKey = variable(env, 'KASH_APIKEY');
  const shopId = variable(env, 'KASH_SHOPID');
  return apiKey && shopId ? { apiKey, shopId } : undefined;
}

export function notLoggedIn(profile: string, message = `not logged in (profile "${profile}")`): KashError {
  return new KashError(ExitCode.notLoggedIn, message, { hint: loginHint(profile) });
}

/** The credentials a command should use for the current profile; exit 5 when there are none. */
export function effectiveCredentials(ctx: Context): Effective {
  const fromEnv = credentialsFromEnv(ctx.env);
  if (fromEnv) return { source: 'env', ...fromEnv };
  const profile = ctx.profile();
  const saved = ctx.store().read().profiles[profile]?.credentials;
  if (!saved) throw notLoggedIn(profile);
  if (saved.storage === 'keyring') {
    throw new KashError(
      ExitCode.store,
      `the key of profile "${profile}" is in the system keyring, which this kash cannot reach`,
      {
        hint: `Log in again to keep it in the file: kash login${profileFlag(profile)}`,
      },
    );
  }
  return { source: 'store', apiKey: saved.apiKey, shopId: saved.shopId, saved };
}
