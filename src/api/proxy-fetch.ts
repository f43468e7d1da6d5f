/**
 * Node's fetch ignores HTTPS_PROXY and friends. This fetch sends a request through a
 * proxy with undici's ProxyAgent, using undici's own fetch so that agent and fetch come
 * from the same version (Node bundles an older undici than the one we ship).
 */
export async function fetchThrough(proxy: URL): Promise<typeof fetch> {
  const { fetch: undiciFetch, ProxyAgent } = await import('undici');
  const dispatcher = new ProxyAgent(proxy.href);
  return async (input, init) => {
    // ky hands over a Request of Node's own; undici's fetch takes only its own, so copy it.
    const request = input instanceof Request ? input : new Request(input, init);
    const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.arrayBuffer();
    const response = await undiciFetch(request.url, {
      method: request.method,
      headers: [...request.headers],
      body,
      redirect: request.redirect,
      signal: request.signal,
      dispatcher,
    });
    return response as unknown as Response;
  };
}
