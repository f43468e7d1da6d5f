import type { Context } from '../context.js';
import { ExitCode, KashError, usageError } from '../errors.js';
import { type Given, optionalInput, STORAGE, type StorageChoice, suppliedBy } from '../inputs.js';

/** Where a saved key goes; asked for with --no-save, where nothing is saved, it is a mistake. */
export function refuseStorageWithoutSave(ctx: Context, given: Given, save: boolean): void {
  if (!save && suppliedBy(ctx, STORAGE, given) === 'flag') {
    throw usageError('--storage goes with saving, and --no-save saves nothing', 'Drop one of the two.');
  }
}

/**
 * Where this login's key will be kept, decided before anything is sent: --storage (or
 * KASH_STORAGE), else where the profile keeps it now, else auto. auto and keyring prove
 * that the keyring takes a write; auto falls back to the file only when there is no
 * keyring at all, and says so — a keyring that is there but fails is exit 6.
 */
export async function decideStorage(ctx: Context, given: Given): Promise<'keyring' | 'file'> {
  const asked = (await optionalInput(ctx, STORAGE, given)) as StorageChoice | undefined;
  const mode = asked ?? currentStorage(ctx) ?? 'auto';
  if (mode === 'file') return 'file';
  const absent = await ctx.keyring().probe();
  if (absent === undefined) return 'keyring';
  if (mode === 'keyring') {
    throw new KashError(ExitCode.store, `no system keyring answers (${absent})`, {
      hint: 'Start one (GNOME Keyring, KWallet, KeePassXC; on macOS and Windows it is always there), or use --storage file.',
    });
  }
  ctx.ui.warn(
    `no system keyring answers (${absent}): the API key will be kept in plain text in ${ctx.store().file} (mode 0600); --storage file says that is what you want`,
  );
  return 'file';
}

/** A store that cannot be read has no say here: the login sets a corrupt one aside, and stops at anything worse. */
function currentStorage(ctx: Context): 'keyring' | 'file' | undefined {
  try {
    return ctx.store().read().profiles[ctx.profile()]?.credentials?.storage;
  } catch {
    return undefined;
  }
}
