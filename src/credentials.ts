import type { Context } from './context.js';
import { ExitCode, KashError } from './errors.js';
import { kashLine, loginHint } from './hints.js';
import { refuseMangled, variable } from './settings.js';
import { NoKeyring } from './store/keyring.js';
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

export function notLoggedIn(ctx: Context, message?: string): KashError {
  const scope = ctx.scope();
  return new KashError(ExitCode.notLoggedIn, message ?? `not logged in (profile "${scope.profile}")`, {
    hint: loginHint(scope, ctx.settings.profile?.fromFlag === true),
  });
}

/** The credentials in effect, without the key where the keyring holds it: what whoami shows. */
export type InEffect =
  | { source: 'env'; apiKey: string; shopId: string }
  | { source: 'store'; profile: string; saved: SavedCredentials };

/**
 * Which credentials are in effect, first match wins (CLI.md): an explicit --profile, then
 * KASH_APIKEY and KASH_SHOPID, then KASH_PROFILE, the default set by `kash switch`, or
 * "default". Exit 5 when the profile has none. Never reads the keyring.
 */
export function credentialsInEffect(ctx: Context): InEffect {
  if (!ctx.settings.profile?.fromFlag) {
    const fromEnv = credentialsFromEnv(ctx.env);
    if (fromEnv) {
      // Used as they stand, so never as Node's U+FFFD for bytes that are not UTF-8.
      const apiKey = refuseMangled(fromEnv.apiKey, 'KASH_APIKEY', 'API key');
      const shopId = refuseMangled(fromEnv.shopId, 'KASH_SHOPID', 'shop ID');
      ctx.secrets.add(apiKey);
      return { source: 'env', apiKey, shopId };
    }
    const half = halfSetWarning(ctx.env);
    if (half) ctx.ui.warn(half);
  }
  const profile = ctx.profile();
  const saved = ctx.store().read().profiles[profile]?.credentials;
  if (!saved) throw notLoggedIn(ctx);
  return { source: 'store', profile, saved };
}

/** The credentials in effect with their key, from the keyring where the profile keeps it there. */
export async function effectiveCredentials(ctx: Context): Promise<Effective> {
  const found = credentialsInEffect(ctx);
  if (found.source === 'env') return found;
  const { profile, saved } = found;
  let apiKey: string;
  if (saved.storage === 'file') apiKey = saved.apiKey;
  else {
    const scope = ctx.scope();
    let fromKeyring: string | null;
    try {
      fromKeyring = await ctx.keyring().get(saved.keyringId);
    } catch (error) {
      if (!(error instanceof NoKeyring)) throw error;
      throw new KashError(
        ExitCode.store,
        `profile "${profile}" keeps its key in the system keyring, but none answers`,
        {
          hint: `Start the keyring (${error.message}), or log in again with --storage file: ${kashLine('login', scope)}`,
          cause: error,
        },
      );
    }
    if (fromKeyring === null) {
      throw new KashError(ExitCode.store, `the key of profile "${profile}" is missing from the system keyring`, {
        hint: `Log in again to store a new one: ${kashLine('login', scope)}`,
      });
    }
    apiKey = fromKeyring;
  }
  ctx.secrets.add(apiKey);
  return { source: 'store', profile, apiKey, shopId: saved.shopId, saved };
}
