import { proxyFor, shownProxy } from './proxy.js';

export interface TransportOptions {
  timeoutMs: number;
  /** Where HTTPS_PROXY, HTTP_PROXY and NO_PROXY are read; none are when absent. */
  env?: NodeJS.ProcessEnv | undefined;
  warn?: ((message: string) => void) | undefined;
  debug?: ((line: string) => void) | undefined;
}

/**
 * The fetch every request to `url`'s origin goes through: Node's own, or the proxy's
 * tunnel when HTTPS_PROXY or HTTP_PROXY applies (never for loopback).
 */
export async function fetchFor(url: URL, options: TransportOptions): Promise<typeof fetch> {
  // main() removed it from Node's view; a person who set it should hear it had no effect.
  if (options.env?.NODE_TLS_REJECT_UNAUTHORIZED === '0') {
    options.warn?.('NODE_TLS_REJECT_UNAUTHORIZED=0 is ignored: kash always verifies certificates');
  }
  const proxy = proxyFor(url, options.env ?? {});
  if (!proxy) {
    // Node loads its fetch (undici) at the first call, or at the first look at one of its
    // classes: here, so that loading it is not counted in the request's --timeout.
    void globalThis.Response;
    return fetch;
  }
  options.debug?.(`requests go through the proxy ${shownProxy(proxy)}`);
  const { fetchThrough } = await import('./proxy-fetch.js');
  return fetchThrough(proxy, options.timeoutMs);
}
