import { sanitizeServerText } from '../sanitize.js';
import type { SavedCredentials } from '../store/records.js';
import { maskApiKey } from './mask.js';

/** The `whoami --json` object of ../shared/CLI.md; it never holds the key itself. */
export interface ProfileView {
  profile: string;
  source: 'store' | 'env';
  /** Where the key is kept; null for environment credentials. */
  storage: 'file' | 'keyring' | null;
  shopId: string;
  shopTitle: string | null;
  login: string | null;
  email: string | null;
  method: 'password' | 'otp' | 'key' | null;
  baseUrl: string | null;
  obtainedAt: string | null;
  /** Null for a key in the keyring, which whoami never reads. */
  apiKeyMasked: string | null;
}

export function savedView(profile: string, saved: SavedCredentials): ProfileView {
  return {
    profile,
    source: 'store',
    storage: saved.storage,
    shopId: saved.shopId,
    shopTitle: saved.shopTitle,
    login: saved.login,
    email: saved.email,
    method: saved.method,
    baseUrl: saved.baseUrl,
    obtainedAt: saved.obtainedAt,
    apiKeyMasked: saved.storage === 'file' ? maskApiKey(saved.apiKey) : null,
  };
}

/** The credentials in effect, as whoami describes them: from the environment, or saved. */
export type InEffect = { source: 'env'; apiKey: string; shopId: string } | { source: 'store'; saved: SavedCredentials };

export function effectiveView(profile: string, effective: InEffect, baseUrl: string | null): ProfileView {
  if (effective.source === 'store') return savedView(profile, effective.saved);
  return {
    profile,
    source: 'env',
    storage: null,
    shopId: effective.shopId,
    shopTitle: null,
    login: null,
    email: null,
    method: null,
    baseUrl,
    obtainedAt: null,
    apiKeyMasked: maskApiKey(effective.apiKey),
  };
}

const LABELS: Array<[keyof ProfileView, string]> = [
  ['profile', 'Profile'],
  ['shopId', 'Shop ID'],
  ['shopTitle', 'Shop'],
  ['login', 'Login'],
  ['email', 'Email'],
  ['method', 'Method'],
  ['baseUrl', 'Base URL'],
  ['obtainedAt', 'Obtained'],
  ['apiKeyMasked', 'API key'],
];

/** Aligned `Label  value` lines for a person; facts that are absent are left out. */
export function describeView(view: ProfileView, sourceText: string): string {
  // Values from KASH_APIKEY/KASH_SHOPID or an edited store are unchecked: no control reaches the terminal.
  const rows: Array<readonly [string, string]> = LABELS.filter(([key]) => view[key] !== null).map(
    ([key, label]) => [label, sanitizeServerText(String(view[key]), 500)] as const,
  );
  if (view.storage === 'keyring') rows.push(['API key', 'in the keyring']);
  rows.splice(1, 0, ['Source', sourceText]);
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
}
