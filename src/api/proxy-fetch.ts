import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

/** A request may open this many tunnels through the proxy; then it fails, naming the proxy. */
export const MAX_TUNNEL_ATTEMPTS = 3;

/** What a failed tunnel says, for networkError to name the proxy and what it did. */
export class TunnelError extends Error {
  readonly code: 'KASH_PROXY_STATUS' | 'KASH_PROXY_GAVE_UP' | 'KASH_PROXY_CLOSED';
  readonly status: number | undefined;
  constructor(code: TunnelError['code'], message: string, status?: number) {
    super(message);
    this.name = 'TunnelError';
    this.code = code;
    this.status = status;
  }
}

interface ConnectOptions {
  hostname: string;
  port: string;
  servername?: string | null;
}

/** undici's connector callback: an error, or a socket. */
type Connected = (...args: [null, Socket | TLSSocket] | [Error, null]) => void;

/**
 * A CONNECT tunnel of our own, then TLS to the service inside it. undici 7's ProxyAgent
 * reconnects without end to a proxy that drops its tunnels (thousands a second, each
 * with Proxy-Authorization); here `attempts` counts the request's connections, and the
 * one past the limit fails instead.
 */
function tunnel(proxy: URL, attempts: { count: number }, timeoutMs: number) {
  const net = process.getBuiltinModule('node:net');
  const tls = process.getBuiltinModule('node:tls');
  const proxyPort = Number(proxy.port || (proxy.protocol === 'https:' ? 443 : 80));
  const auth = proxy.username
    ? `Proxy-Authorization: Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}\r\n`
    : '';
  return (options: ConnectOptions, connected: Connected) => {
    attempts.count++;
    if (attempts.count > MAX_TUNNEL_ATTEMPTS) {
      connected(new TunnelError('KASH_PROXY_GAVE_UP', `the proxy dropped ${MAX_TUNNEL_ATTEMPTS} tunnels`), null);
      return;
    }
    const target = `${options.hostname}:${options.port || 443}`;
    const socket =
      proxy.protocol === 'https:'
        ? tls.connect({ host: proxy.hostname, port: proxyPort, servername: sniName(proxy.hostname) })
        : net.connect({ host: proxy.hostname, port: proxyPort });
    let done = false;
    const finish = (error: Error | null, result: Socket | TLSSocket | null) => {
      if (done) return;
      done = true;
      socket.setTimeout(0);
      if (error || !result) {
        socket.destroy();
        connected(error ?? new TunnelError('KASH_PROXY_CLOSED', 'no tunnel'), null);
      } else connected(null, result);
    };
    socket.setTimeout(timeoutMs, () =>
      finish(Object.assign(new Error('proxy timed out'), { code: 'ETIMEDOUT' }), null),
    );
    socket.once('error', (error) => finish(error, null));
    socket.once('close', () => finish(new TunnelError('KASH_PROXY_CLOSED', 'the proxy closed the tunnel'), null));
    socket.once(proxy.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
      socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${auth}\r\n`);
    });
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) {
        if (head.length > 16 * 1024)
          finish(new TunnelError('KASH_PROXY_CLOSED', 'the proxy sent no end of headers'), null);
        return;
      }
      socket.off('data', onData);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head.toString('latin1'))?.[1] ?? 0);
      if (status !== 200) {
        finish(new TunnelError('KASH_PROXY_STATUS', `the proxy answered ${status} to CONNECT`, status), null);
        return;
      }
      socket.removeAllListeners('close');
      let secure: TLSSocket;
      try {
        secure = tls.connect({
          socket,
          // What the certificate is checked against: with a socket given, Node would take "localhost".
          host: options.hostname.replace(/^\[(.*)\]$/, '$1'),
          servername: sniName(options.servername ?? options.hostname),
          ALPNProtocols: ['http/1.1'],
        });
      } catch (error) {
        // Thrown inside a socket's listener, it would end kash with a stack trace.
        finish(error as Error, null);
        return;
      }
      secure.once('secureConnect', () => finish(null, secure));
      secure.once('error', (error) => finish(error, null));
    };
    socket.on('data', onData);
  };
}

/**
 * Node's fetch ignores HTTPS_PROXY and friends. This fetch sends each request through the
 * proxy's CONNECT tunnel, with undici's own fetch and Agent (Node bundles an older undici
 * than the one we ship). Through a proxy the service is always https://: loopback, the
 * only place http:// is allowed, never goes through one.
 */
export async function fetchThrough(proxy: URL, timeoutMs: number): Promise<typeof fetch> {
  const { fetch: undiciFetch, Agent } = await import('undici');
  const attempts = { count: 0 };
  const dispatcher = new Agent({ connect: tunnel(proxy, attempts, timeoutMs) });
  return async (input, init) => {
    attempts.count = 0;
    // undici's fetch takes no Request of Node's own: whatever it is given is copied into its own options.
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

/** The name to send for TLS's server name indication: none for an address, which SNI may not carry (Node 26 refuses one). */
function sniName(host: string): string | undefined {
  const net = process.getBuiltinModule('node:net');
  return net.isIP(host.replace(/^\[(.*)\]$/, '$1')) === 0 ? host : undefined;
}
