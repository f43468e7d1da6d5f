// Stores written by the test itself, in kash's own format (typed by src/store/records.ts),
// for the tests whose subject is what a command does with a store that a login or a code
// request would have left: writing it takes no process, where running kash to make it
// costs one. The commands that make such stores are tested for what they write elsewhere.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type FileCredentials,
  type PendingCode,
  type ProfileRecord,
  parseStore,
  STORE_VERSION,
  type StoreData,
} from '../../src/store/records.js';
import type { PasswordAccount, Shop } from './emulator.js';

export const STORE_FILE = 'credentials.json';

/** What a password login of `account` against `baseUrl` saves. */
export function passwordCredentials(
  account: PasswordAccount,
  baseUrl: string,
  obtainedAt = new Date().toISOString(),
): FileCredentials {
  return {
    storage: 'file',
    apiKey: account.apiKey,
    shopId: String(account.shopId),
    login: account.login,
    email: null,
    method: 'password',
    baseUrl,
    obtainedAt,
    shopTitle: null,
  };
}

/** What a code login of `email` to `shop` against `baseUrl` saves (the title when the request named it). */
export function codeCredentials(shop: Shop, email: string, baseUrl: string, shopTitle: string | null): FileCredentials {
  return {
    storage: 'file',
    apiKey: shop.apiKey,
    shopId: String(shop.shopId),
    login: null,
    email,
    method: 'otp',
    baseUrl,
    obtainedAt: new Date().toISOString(),
    shopTitle,
  };
}

/** What `otp request` remembers in the profile: the shop's title only when it came from the shop list. */
export function pendingCode(
  email: string,
  accountId: string | null,
  baseUrl: string,
  shopTitle: string | null = null,
): PendingCode {
  return { email, accountId, shopTitle, baseUrl, requestedAt: new Date().toISOString() };
}

/** The store in `dir` as it is on disk, checked to be a valid store; undefined when there is none. */
export function readStore(dir: string): StoreData | undefined {
  const file = join(dir, STORE_FILE);
  if (!existsSync(file)) return undefined;
  const parsed = parseStore(JSON.parse(readFileSync(file, 'utf8')));
  if (!('data' in parsed)) throw new Error(`${file} is not a valid store: ${JSON.stringify(parsed)}`);
  return parsed.data;
}

/**
 * Writes these records into the store in `dir` (made 0700 if it is not there), each
 * field over the same field of the profile's record if the store has one, as kash saves
 * it: 0600, tab-indented.
 */
export function writeStore(dir: string, profiles: Record<string, ProfileRecord>): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const data = readStore(dir) ?? { version: STORE_VERSION, profiles: {} };
  for (const [name, record] of Object.entries(profiles)) data.profiles[name] = { ...data.profiles[name], ...record };
  const file = join(dir, STORE_FILE);
  writeFileSync(file, `${JSON.stringify(data, null, '\t')}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}
