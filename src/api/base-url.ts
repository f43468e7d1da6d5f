import { usageError } from '../errors.js';
import { quote } from '../sanitize.js';

const hint =
  'Use an https:// URL, e.g. --base-url https://kash.click (http:// is allowed only for 127.0.0.1, ::1 or localhost).';

/** 127.0.0.0/8, ::1 and localhost: this machine, where http:// may be used and no proxy ever is. */
export function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/** Checked before any request: a key must never travel in clear over a real network. */
export function parseBaseUrl(value: string): string {
  // It is repeated in every message about the service: keep those messages one short line.
  if (value.length > 2048) throw usageError('the base URL is longer than 2048 characters', hint);
  // `localhost:8787` or `kash.click:443` would parse, with the host taken for a scheme.
  const bare = value.trim();
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(bare)) {
    const host = bare.replace(/^\/+/, '').split(/[/:]/)[0] ?? '';
    const suggested = `${isLoopback(host) ? 'http' : 'https'}://${bare.replace(/^\/+/, '')}`;
    // Repeated only when it is a plain host and port: nothing a terminal would act on, nothing like a password.
    const plain = /^[\w.-]+(:\d+)?(\/[\w./-]*)?$/.test(bare);
    throw usageError(
      `the base URL ${value.includes('@') ? '' : `${quote(value, 200)} `}has no scheme`,
      `Give it whole, e.g. --base-url ${plain ? suggested : 'https://kash.click'}.`,
    );
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // What looks like user:password@ stays out of the message.
    const shown = value.includes('@') ? '' : ` ${quote(value, 200)}`;
    throw usageError(`invalid base URL${shown}`, hint);
  }
  if (url.username || url.password) throw usageError('the base URL must not carry a user name or password', hint);
  // An empty "?" or "#" parses to empty search/hash but would still swallow the endpoint paths.
  if (url.search || url.hash || /[?#]/.test(value))
    throw usageError('the base URL must not carry a query or fragment', hint);
  if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url.hostname))) {
    return url.href.replace(/\/+$/, '');
  }
  throw usageError(`refusing the base URL ${url.origin}: only https:// reaches the service`, hint);
}
