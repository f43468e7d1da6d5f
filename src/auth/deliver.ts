import type { Context } from '../context.js';
import { credentialsFromEnv } from '../credentials.js';
import { usageError } from '../errors.js';
import { type EnvFormat, formatEnv, parseEnvFormat } from '../output/env-format.js';
import { writeJson } from '../output/json.js';
import { savedView } from '../output/profile-view.js';
import { newKeyringId } from '../store/keyring.js';
import type { FileCredentials, SavedCredentials } from '../store/records.js';
import type { Obtained } from './obtained.js';

/** --format says how --no-save prints; with saving there is nothing to print. */
export function printFormat(save: boolean, format: string | undefined): EnvFormat {
  if (format !== undefined && save) {
    throw usageError(
      '--format goes with --no-save',
      'Saved credentials are printed later with `kash env --format <format>`.',
    );
  }
  return parseEnvFormat(format ?? 'sh');
}

export interface DeliverOptions {
  save: boolean;
  format: EnvFormat;
  /** Where the key goes, decided before anything was sent. */
  storage: 'keyring' | 'file';
  /** A code login is done with its pending request; a password login leaves one alone. */
  clearPendingCode: boolean;
}

/**
 * The end of every login: save under the profile and say where, or with --no-save print
 * the credentials on stdout exactly as `kash env` would.
 */
export async function deliver(ctx: Context, obtained: Obtained, options: DeliverOptions): Promise<void> {
  const profile = ctx.profile();
  const { apiKey, shopId } = obtained.credentials;
  const facts = {
    shopId,
    login: obtained.login,
    email: obtained.email,
    method: obtained.method,
    baseUrl: ctx.settings.network().baseUrl,
    obtainedAt: new Date().toISOString(),
    shopTitle: obtained.shopTitle,
  };
  const shop = `shop ${shopId}${facts.shopTitle ? ` (${facts.shopTitle})` : ''}`;
  const done =
    obtained.method === 'key' ? `Took the API key of ${shop}` : `Logged in to ${shop} as ${facts.login ?? facts.email}`;

  if (!options.save) {
    if (ctx.settings.json) {
      // Saved nowhere: no profile, source, storage or default; the key and shop ID with what whoami would show.
      const inFile: FileCredentials = { storage: 'file', apiKey, ...facts };
      const view = { ...savedView('', inFile, false), profile: null, source: null, storage: null, isDefault: null };
      writeJson(ctx.io, { apiKey, ...view });
    } else {
      ctx.io.stdout.write(
        formatEnv(options.format, [
          ['KASH_APIKEY', apiKey],
          ['KASH_SHOPID', shopId],
        ]),
      );
    }
    ctx.ui.success(`${done}; credentials printed, not saved`);
    return;
  }

  // The keyring item first, then the file that names it, then (below) the old item: a
  // kill at any point leaves credentials that work. No keyring call under the store's lock.
  let saved: SavedCredentials;
  if (options.storage === 'keyring') {
    const keyringId = newKeyringId();
    await ctx.keyring().set(keyringId, apiKey);
    saved = { storage: 'keyring', keyringId, ...facts };
  } else {
    saved = { storage: 'file', apiKey, ...facts };
  }
  const store = ctx.store();
  let replaced: SavedCredentials | undefined;
  let data: Awaited<ReturnType<typeof store.update>>;
  try {
    data = await store.update(
      (current) => {
        replaced = current.profiles[profile]?.credentials;
        const record = { ...current.profiles[profile], credentials: saved };
        if (options.clearPendingCode) delete record.pendingCode;
        current.profiles[profile] = record;
      },
      { setAsideCorrupt: true },
    );
  } catch (error) {
    if (saved.storage === 'keyring')
      await ctx
        .keyring()
        .remove(saved.keyringId)
        .catch(() => undefined);
    throw error;
  }
  const where = saved.storage === 'keyring' ? 'the system keyring' : store.file;
  ctx.ui.success(`${done}; saved as profile "${profile}" in ${where}`);
  if (replaced?.storage === 'keyring') await removeOldItem(ctx, replaced.keyringId);
  if (replaced && replaced.shopId !== shopId) {
    const title = replaced.shopTitle ? ` (${replaced.shopTitle})` : '';
    ctx.ui.warn(`profile "${profile}" held shop ${replaced.shopId}${title} before; it now holds ${shop}`);
  }
  if (credentialsFromEnv(ctx.env)) {
    ctx.ui.warn(
      'KASH_APIKEY and KASH_SHOPID are set: commands run here without --profile will use them, not what was just saved',
    );
  }
  if (ctx.settings.json) writeJson(ctx.io, savedView(profile, saved, profile === (data.default ?? 'default')));
}

/** The item the file no longer names: gone, or, if the keyring will not say, named so that nothing is left unknown. */
async function removeOldItem(ctx: Context, keyringId: string): Promise<void> {
  try {
    await ctx.keyring().remove(keyringId);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    ctx.ui.warn(`could not remove the old key from the system keyring (item ${keyringId}: ${why}); remove it by hand`);
  }
}
