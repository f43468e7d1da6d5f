import { usageError } from '../errors.js';

const hint = 'Use an https:// URL, e.g. --base-url https://kash.click (http:// is allowed only for 127.0.0.1, ::1 or localhost).';

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/** Checked before any request: a key must never travel in clear over a real network. */
export function parseBaseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw usageError(`invalid base URL ${JSON.stringify(value.slice(0, 200))}`, hint);
  }
  if (url.username || url.password) throw usageError('the base URL must not carry a user name or password', hint);
  if (url.search || url.hash) throw usageError('the base URL must not carry a query or fragment', hint);
  if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url.hostname))) {
    return url.href.replace(/\/+$/, '');
  }
  throw usageError(`refusing to send credentials to ${url.origin}: not https://`, hint);
}
