import { usageError } from '../errors.js';
import { isLoopback } from './base-url.js';

const variable = (env: NodeJS.ProcessEnv, name: string) => {
  const value = env[name.toLowerCase()] ?? env[name.toUpperCase()];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
};

/**
 * NO_PROXY as curl and undici read it: names or addresses separated by commas or spaces,
 * each matching itself and its subdomains, optionally with a port; `*` matches all.
 */
function bypassed(url: URL, noProxy: string | undefined): boolean {
  if (noProxy === undefined) return false;
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return noProxy
    .split(/[\s,]+/)
    .filter(Boolean)
    .some((entry) => {
      if (entry === '*') return true;
      // A bare IPv6 address (::1) is a host without a port. (Two colons tell it; node:net
      // would, but costs start-up to every command.)
      if (!entry.startsWith('[') && (entry.match(/:/g) ?? []).length >= 2) return host === entry.toLowerCase();
      const match = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(entry.toLowerCase());
      if (!match) return false;
      const name = (match[1] ?? match[2] ?? '').replace(/^\*?\./, '');
      if (match[3] !== undefined && match[3] !== port) return false;
      return host === name || host.endsWith(`.${name}`);
    });
}

/** The proxy URL a request to `url` goes through, from HTTPS_PROXY, HTTP_PROXY and NO_PROXY (either case). */
export function proxyFor(url: URL, env: NodeJS.ProcessEnv): URL | undefined {
  if (isLoopback(url.hostname)) return undefined;
  const https = url.protocol === 'https:' ? variable(env, 'HTTPS_PROXY') : undefined;
  const name = https === undefined ? 'HTTP_PROXY' : 'HTTPS_PROXY';
  const value = https ?? variable(env, 'HTTP_PROXY');
  if (value === undefined || bypassed(url, variable(env, 'NO_PROXY'))) return undefined;
  const proxy = URL.parse(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
  if (!proxy || (proxy.protocol !== 'http:' && proxy.protocol !== 'https:')) {
    throw usageError(
      `invalid proxy URL in ${name} (or its lower-case form)`,
      'Give it as http://host:port, e.g. HTTPS_PROXY=http://proxy.example:3128.',
    );
  }
  return proxy;
}

/** A proxy URL fit to print: its password never is. */
export function shownProxy(proxy: URL): string {
  const shown = new URL(proxy.href);
  if (shown.password) shown.password = '***';
  return shown.href.replace(/\/$/, '');
}
