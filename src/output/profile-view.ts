import { sanitizeServerText } from '../sanitize.js';
import type { SavedCredentials } from '../store/records.js';
import { maskApiKey } from './mask.js';

/** The `whoami --json` object of ../shared/CLI.md; it never holds the key itself. */
export interface ProfileView {
  profile: string | null;
  source: 'store' | 'env' | null;
  /** Where the key is kept; null for environment credentials. */
  storage: 'file' | 'keyring' | null;
  /** Whether commands without --profile or KASH_PROFILE use this profile; null when nothing was saved. */
  isDefault: boolean | null;
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

export function savedView(profile: string, saved: SavedCredentials, isDefault: boolean): ProfileView {
  return {
    profile,
    source: 'store',
    storage: saved.storage,
    isDefault,
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

export function environmentView(profile: string, apiKey: string, shopId: string, baseUrl: string | null): ProfileView {
  return {
    profile,
    source: 'env',
    storage: null,
    isDefault: false,
    shopId,
    shopTitle: null,
    login: null,
    email: null,
    method: null,
    baseUrl,
    obtainedAt: null,
    apiKeyMasked: maskApiKey(apiKey),
  };
}

const two = (n: number) => String(n).padStart(2, '0');

/** A moment as a person reads it: local time, its offset, and how long ago. */
export function describeMoment(iso: string, now = new Date()): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  const offset = -at.getTimezoneOffset();
  const zone = `${offset < 0 ? '-' : '+'}${two(Math.floor(Math.abs(offset) / 60))}:${two(Math.abs(offset) % 60)}`;
  const local = `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())} ${two(at.getHours())}:${two(at.getMinutes())} ${zone}`;
  return `${local} (${ago((now.getTime() - at.getTime()) / 1000)})`;
}

function ago(seconds: number): string {
  if (seconds < 0) return 'in the future';
  const steps: Array<[number, string]> = [
    [365 * 86400, 'year'],
    [30 * 86400, 'month'],
    [86400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
  ];
  for (const [size, unit] of steps) {
    const count = Math.floor(seconds / size);
    if (count >= 1) return `${count} ${unit}${count === 1 ? '' : 's'} ago`;
  }
  return 'just now';
}

const LABELS: Array<[keyof ProfileView, string]> = [
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
export function describeView(view: ProfileView, sourceText: string, now = new Date()): string {
  // Values from KASH_APIKEY/KASH_SHOPID or an edited store are unchecked: no control reaches the terminal.
  const shown = (key: keyof ProfileView) => {
    const value = String(view[key]);
    return sanitizeServerText(key === 'obtainedAt' ? describeMoment(value, now) : value, 500);
  };
  const rows: Array<readonly [string, string]> = [
    ['Profile', `${sanitizeServerText(String(view.profile), 100)}${view.isDefault ? ' (default)' : ''}`],
    ['Source', sourceText],
    ...LABELS.filter(([key]) => view[key] !== null).map(([key, label]) => [label, shown(key)] as const),
  ];
  if (view.storage === 'keyring') rows.push(['API key', 'in the keyring']);
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
}
