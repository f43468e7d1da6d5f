// Through a proxy, each request opens its own CONNECT tunnel, at most a few times, never
// a reconnect storm (CLI.md, "Network"); and every failure names the proxy, never its
// password. Hostile proxies on 127.0.0.1, counted.
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ServiceClient } from '../../src/api/client.js';
import { MAX_TUNNEL_ATTEMPTS } from '../../src/api/proxy-fetch.js';
import { KashError } from '../../src/errors.js';

interface Proxy {
  port: number;
  connections: number;
  requests: string[];
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((done) => server.close(done))));
});

/** A proxy that reads the CONNECT and then does `answer` with the socket. */
async function proxy(answer: (socket: Socket) => void): Promise<Proxy> {
  const seen: Proxy = { port: 0, connections: 0, requests: [] };
  const server = createServer((socket) => {
    seen.connections++;
    socket.on('error', () => undefined);
    socket.once('data', (chunk) => {
      seen.requests.push(chunk.toString('latin1'));
      answer(socket);
    });
  });
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  seen.port = (server.address() as { port: number }).port;
  return seen;
}

const client = (proxyPort: number, timeoutMs = 5_000) =>
  new ServiceClient({
    baseUrl: 'https://kash.test',
    timeoutMs,
    userAgent: 'kash-test',
    env: { HTTPS_PROXY: `http://user:pa55word@127.0.0.1:${proxyPort}` },
  });

async function failure(promise: Promise<unknown>): Promise<KashError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(KashError);
  return error as KashError;
}

describe('a proxy that will not tunnel', () => {
  it('closing every CONNECT: exit 4 naming the proxy, after at most 3 connections', async () => {
    const dropping = await proxy((socket) => socket.destroy());
    const error = await failure(client(dropping.port).loginWithPassword('owner', 'pw-SECRET'));
    expect(error.exitCode).toBe(4);
    expect(error.message).toContain(`the proxy http://user:***@127.0.0.1:${dropping.port}`);
    expect(`${error.message} ${error.hint}`).not.toContain('pa55word');
    // Give a storm the time to show itself.
    await new Promise((done) => setTimeout(done, 300));
    expect(dropping.connections).toBeGreaterThanOrEqual(1);
    expect(dropping.connections).toBeLessThanOrEqual(MAX_TUNNEL_ATTEMPTS);
    // "Gave up after 3 tries" only where there were 3.
    expect(error.message.includes(`gave up after ${MAX_TUNNEL_ATTEMPTS} tries`), error.message).toBe(
      dropping.connections === MAX_TUNNEL_ATTEMPTS,
    );
    expect(dropping.requests[0]).toMatch(/^CONNECT kash\.test:443 HTTP\/1\.1\r\n/);
    expect(dropping.requests[0]).toContain(
      `Proxy-Authorization: Basic ${Buffer.from('user:pa55word').toString('base64')}`,
    );
  });

  it.each([
    [407, /rejected its credentials \(HTTP 407\)/],
    [403, /refused to connect to kash\.test \(HTTP 403\)/],
  ])('answering %i: exit 4 saying so, one connection', async (status, says) => {
    const refusing = await proxy((socket) => socket.end(`HTTP/1.1 ${status} No\r\nContent-Length: 0\r\n\r\n`));
    const error = await failure(client(refusing.port).loginWithPassword('owner', 'pw-SECRET'));
    expect(error.exitCode).toBe(4);
    expect(error.message).toMatch(says);
    expect(refusing.connections).toBe(1);
  });

  it('never answering: exit 4 within the timeout', async () => {
    const silent = await proxy(() => undefined);
    const started = performance.now();
    const error = await failure(client(silent.port, 300).loginWithPassword('owner', 'pw-SECRET'));
    expect(error.exitCode).toBe(4);
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(silent.connections).toBe(1);
  });
});
