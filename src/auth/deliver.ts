import type { Context } from '../context.js';
import { credentialsFromEnv } from '../credentials.js';
import { usageError } from '../errors.js';
import { type EnvFormat, formatEnv, parseEnvFormat } from '../output/env-format.js';
import { writeJson } from '../output/json.js';
import { savedView } from '../output/profile-view.js';
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
  /** A code login is done with its pending request; a password login leaves one alone. */
  clearPendingCode: boolean;
}

/**
 * The end of every login: save under the profile and say where, or with --no-save print
 * the credentials on stdout exactly as `kash env` would.
 */
export async function deliver(ctx: Context, obtained: Obtained, options: DeliverOptions): Promise<void> {
  const profile = ctx.profile();
  const { baseUrl } = ctx.settings.network();
  const saved: FileCredentials = {
    storage: 'file',
    apiKey: obtained.credentials.apiKey,
    shopId: obtained.credentials.shopId,
    login: obtained.login,
    email: obtained.email,
    method: obtained.method,
    baseUrl,
    obtainedAt: new Date().toISOString(),
    shopTitle: obtained.shopTitle,
  };
  const shop = `shop ${saved.shopId}${saved.shopTitle ? ` (${saved.shopTitle})` : ''}`;
  const done =
    obtained.method === 'key' ? `Took the API key of ${shop}` : `Logged in to ${shop} as ${saved.login ?? saved.email}`;

  if (!options.save) {
    if (ctx.settings.json) {
      // Saved nowhere: no profile, source, storage or default; the key and shop ID with what whoami would show.
      const view = { ...savedView('', saved, false), profile: null, source: null, storage: null, isDefault: null };
      writeJson(ctx.io, { apiKey: saved.apiKey, ...view });
    } else {
      ctx.io.stdout.write(
        formatEnv(options.format, [
          ['KASH_APIKEY', saved.apiKey],
          ['KASH_SHOPID', saved.shopId],
        ]),
      );
    }
    ctx.ui.success(`${done}; credentials printed, not saved`);
    return;
  }

  const store = ctx.store();
  let replaced: SavedCredentials | undefined;
  const data = await store.update(
    (current) => {
      replaced = current.profiles[profile]?.credentials;
      const record = { ...current.profiles[profile], credentials: saved };
      if (options.clearPendingCode) delete record.pendingCode;
      current.profiles[profile] = record;
    },
    { setAsideCorrupt: true },
  );
  ctx.ui.success(`${done}; saved as profile "${profile}" in ${store.file}`);
  if (replaced && replaced.shopId !== saved.shopId) {
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
