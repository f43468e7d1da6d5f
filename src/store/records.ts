/**
 * The store file's format. Version 2 says, per profile, where its key lives (`storage`),
 * and holds the store's default profile; version 1 (keys in the file only, no default)
 * is read as version 2 and rewritten so on the next save.
 */
export const STORE_VERSION = 2;

const PROFILE_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** Letters, digits, ".", "_" or "-", 1 to 64 of them: a key in the store, never a path. */
export const isProfileName = (name: string) => PROFILE_NAME.test(name);

/** What a saved profile says about itself, wherever its key is. */
interface SavedFacts {
  shopId: string;
  login: string | null;
  email: string | null;
  /** `key`: pasted from the back office (Configuration → Webservices). */
  method: 'password' | 'otp' | 'key';
  baseUrl: string;
  obtainedAt: string;
  shopTitle: string | null;
}

/** The key in the store file itself. */
export interface FileCredentials extends SavedFacts {
  storage: 'file';
  apiKey: string;
}

/** The key in the system keyring, under service `kash` and account `keyringId` (new at every save). */
export interface KeyringCredentials extends SavedFacts {
  storage: 'keyring';
  keyringId: string;
}

export type SavedCredentials = FileCredentials | KeyringCredentials;

/** A code requested by `otp request`, waiting for `otp consume`. */
export interface PendingCode {
  email: string;
  accountId: string | null;
  shopTitle: string | null;
  baseUrl: string;
  requestedAt: string;
}

export interface ProfileRecord {
  credentials?: SavedCredentials;
  pendingCode?: PendingCode;
}

export interface StoreData {
  version: typeof STORE_VERSION;
  /** The profile `kash switch` made the default; absent: "default". */
  default?: string;
  profiles: Record<string, ProfileRecord>;
}

/** Any valid profile name, "__proto__" included, must be an ordinary key. */
const profileMap = (): StoreData['profiles'] => Object.create(null) as StoreData['profiles'];

export const emptyStore = (): StoreData => ({ version: STORE_VERSION, profiles: profileMap() });

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
const isString = (value: unknown): value is string => typeof value === 'string';
const isStringOrNull = (value: unknown) => value === null || isString(value);

function isSavedFacts(value: Record<string, unknown>, version: number): boolean {
  const methods = version === 1 ? ['password', 'otp'] : ['password', 'otp', 'key'];
  return (
    isString(value.shopId) &&
    isStringOrNull(value.login) &&
    isStringOrNull(value.email) &&
    methods.includes(value.method as string) &&
    isString(value.baseUrl) &&
    isString(value.obtainedAt) &&
    isStringOrNull(value.shopTitle)
  );
}

function isCredentials(value: unknown, version: number): boolean {
  if (!isObject(value) || !isSavedFacts(value, version)) return false;
  if (version === 1) return value.storage === undefined && isString(value.apiKey);
  if (value.storage === 'file') return isString(value.apiKey) && value.keyringId === undefined;
  if (value.storage === 'keyring') return isString(value.keyringId) && value.apiKey === undefined;
  return false;
}

function isPendingCode(value: unknown): value is PendingCode {
  return (
    isObject(value) &&
    isString(value.email) &&
    isStringOrNull(value.accountId) &&
    isStringOrNull(value.shopTitle) &&
    isString(value.baseUrl) &&
    isString(value.requestedAt)
  );
}

/** What a parsed store file is: a store (in today's format), one from a newer kash, or why it is corrupt. */
export type Parsed = { data: StoreData } | { newer: number } | { corrupt: string };

export function parseStore(json: unknown): Parsed {
  if (!isObject(json)) return { corrupt: 'not a kash credential store' };
  const { version } = json;
  if (typeof version === 'number' && Number.isInteger(version) && version > STORE_VERSION) return { newer: version };
  if (version !== 1 && version !== STORE_VERSION) return { corrupt: 'not a kash credential store (no known version)' };
  if (!isObject(json.profiles)) return { corrupt: 'it has no profiles' };
  if (json.default !== undefined && (version === 1 || !isString(json.default)))
    return { corrupt: 'a malformed default' };
  const profiles = profileMap();
  for (const [name, record] of Object.entries(json.profiles)) {
    if (!isObject(record)) return { corrupt: `profile "${name}" is not an object` };
    if (record.credentials !== undefined && !isCredentials(record.credentials, version)) {
      return { corrupt: `profile "${name}" has malformed credentials` };
    }
    if (record.pendingCode !== undefined && !isPendingCode(record.pendingCode)) {
      return { corrupt: `profile "${name}" has a malformed pending code` };
    }
    const credentials = record.credentials as SavedCredentials | undefined;
    profiles[name] = {
      ...(record as ProfileRecord),
      ...(credentials && version === 1 ? { credentials: { ...credentials, storage: 'file' } as FileCredentials } : {}),
    };
  }
  const data: StoreData = { version: STORE_VERSION, profiles };
  if (isString(json.default)) data.default = json.default;
  return { data };
}
