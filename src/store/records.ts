/** What one profile holds in the store file. */
export interface SavedCredentials {
  apiKey: string;
  shopId: string;
  login: string | null;
  email: string | null;
  method: 'password' | 'otp';
  baseUrl: string;
  obtainedAt: string;
  shopTitle: string | null;
}

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
  version: 1;
  profiles: Record<string, ProfileRecord>;
}

export const emptyStore = (): StoreData => ({ version: 1, profiles: Object.create(null) as StoreData['profiles'] });

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
const isString = (value: unknown): value is string => typeof value === 'string';
const isStringOrNull = (value: unknown) => value === null || isString(value);

function isCredentials(value: unknown): value is SavedCredentials {
  return (
    isObject(value) &&
    isString(value.apiKey) &&
    isString(value.shopId) &&
    isStringOrNull(value.login) &&
    isStringOrNull(value.email) &&
    (value.method === 'password' || value.method === 'otp') &&
    isString(value.baseUrl) &&
    isString(value.obtainedAt) &&
    isStringOrNull(value.shopTitle)
  );
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

/** Returns why the parsed file is not a store, or undefined when it is one. */
export function storeProblem(data: unknown): string | undefined {
  if (!isObject(data) || data.version !== 1 || !isObject(data.profiles))
    return 'not a kash credential store (version 1)';
  for (const [name, record] of Object.entries(data.profiles)) {
    if (!isObject(record)) return `profile "${name}" is not an object`;
    if (record.credentials !== undefined && !isCredentials(record.credentials))
      return `profile "${name}" has malformed credentials`;
    if (record.pendingCode !== undefined && !isPendingCode(record.pendingCode))
      return `profile "${name}" has a malformed pending code`;
  }
  return undefined;
}
