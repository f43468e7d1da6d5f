import type { Context } from './context.js';
import { ExitCode, KashError } from './errors.js';
import { kashLine, loginHint, type Scope } from './hints.js';
import { variable } from './settings.js';
import type { SavedCredentials } from './store/records.js';

export type Effective =
  | { source: 'env'; apiKey: string; shopId: string }
  | { source: 'store'; profile: string; apiKey: string; shopId: string; saved: SavedCredentials };

/** Both variables set: environment credentials. */
export function credentialsFromEnv(env: NodeJS.ProcessEnv): { apiKey: string; shopId: string } | undefined {
  const apiKey = variable(env, 'KASH_APIKEY');
  const shopId = variable(env, 'KASH_SHOPID');
  return apiKey && shopId ? { apiKey, shopId } : undefined;
}

/** One of the two set is no credentials at all: said, so that nobody wonders why it is not used. */
export function halfSetWarning(env: NodeJS.ProcessEnv): string | undefined {
  const apiKey = variable(env, 'KASH_APIKEY') !== undefined;
  const shopId = variable(env, 'KASH_SHOPID') !== undefined;
  if (apiKey === shopId) return undefined;
  const [set, missing] = apiKey ? ['KASH_APIKEY', 'KASH_SHOPID'] : ['KASH_SHOPID', 'KASH_APIKEY'];
  return `${set} is set but ${missing} is not, so neither is used; set ${missing} too, or unset ${set}`;
}

export function notLoggedIn(scope: Scope, message = `not logged in (profile "${scope.profile}")`): KashError {
  return new KashError(ExitCode.notLoggedIn, message, { hint: loginHint(scope) });
}

/**
 * The credentials a command should use, first match wins (CLI.md): an explicit --profile,
 * then KASH_APIKEY and KASH_SHOPID, then KASH_PROFILE, the default set by `kash switch`,
 * or "default". Exit 5 when the profile has none.
 */
export function effectiveCredentials(ctx: Context): Effective {
  if (!ctx.settings.profile?.fromFlag) {
    const fromEnv = credentialsFromEnv(ctx.env);
    if (fromEnv) {
      ctx.secrets.add(fromEnv.apiKey);
      return { source: 'env', ...fromEnv };
    }
    const half = halfSetWarning(ctx.env);
    if (half) ctx.ui.warn(half);
  }
  const scope = ctx.scope();
  const saved = ctx.store().read().profiles[scope.profile]?.credentials;
  if (!saved) throw notLoggedIn(scope);
  if (saved.storage === 'keyring') {
    throw new KashError(
      ExitCode.store,
      `the key of profile "${scope.profile}" is in the system keyring, which this kash cannot reach`,
      { hint: `Log in again to keep it in the file: ${kashLine('login', scope)}` },
    );
  }
  ctx.secrets.add(saved.apiKey);
  return { source: 'store', profile: scope.profile, apiKey: saved.apiKey, shopId: saved.shopId, saved };
}
