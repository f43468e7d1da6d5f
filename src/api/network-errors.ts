import { causes, ExitCode, KashError } from '../errors.js';
import { sanitizeServerText } from '../sanitize.js';
import { parseAnswer, serverMessage } from './answers.js';
import { shownProxy } from './proxy.js';
import { MAX_TUNNEL_ATTEMPTS } from './proxy-fetch.js';

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The innermost error code: fetch wraps socket and TLS failures in TypeError('fetch failed'). */
function rootCode(error: unknown): string | undefined {
  for (const e of causes(error)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** Turns what fetch throws into exit 4 with a message naming the host and what to try. */
export function networkError(error: unknown, url: URL, timeoutMs: number, proxy: URL | undefined): KashError {
  const where = url.origin;
  const service = (message: string, hint: string) => new KashError(ExitCode.service, message, { hint, cause: error });
  const name = (error as { name?: string } | null)?.name;
  if (name === 'TimeoutError') {
    return service(
      `${where} did not answer within ${timeoutMs / 1000} s`,
      'Try again, or allow longer with --timeout / KASH_TIMEOUT.',
    );
  }
  const code = rootCode(error);
  if (code && TLS_CODES.has(code)) {
    return service(
      `the TLS certificate of ${url.host} did not verify (${code})`,
      'If your network uses a private certificate authority, point NODE_EXTRA_CA_CERTS at its PEM file.',
    );
  }
  if (proxy) return proxyError(error, url, proxy, code);
  const reach = 'Check your network connection and --base-url / KASH_BASE_URL.';
  switch (code) {
    case 'ECONNREFUSED':
      return service(`could not connect to ${where}: connection refused`, reach);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return service(`could not resolve ${url.hostname}`, reach);
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return service(
        `${where} closed the connection before answering`,
        'Try again in a moment; the service may be restarting.',
      );
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return service(`could not connect to ${where}: timed out`, reach);
    default:
      return service(
        `the request to ${where} failed (${code ?? innermostMessage(error)})`,
        `${reach} Run with --verbose for details.`,
      );
  }
}

/** Through a proxy, kash only ever connects to the proxy: its failures are the proxy's to name. */
function proxyError(error: unknown, url: URL, proxy: URL, code: string | undefined): KashError {
  const shown = shownProxy(proxy);
  const hint = 'Check HTTPS_PROXY / HTTP_PROXY, or list this host in NO_PROXY to go direct.';
  const fail = (message: string) => new KashError(ExitCode.service, message, { hint, cause: error });
  const status = [...causes(error)].map((e) => (e as { status?: unknown }).status).find(Number.isInteger);
  if (code === 'KASH_PROXY_STATUS' && (status === 407 || status === 401)) {
    return new KashError(ExitCode.service, `the proxy ${shown} rejected its credentials (HTTP ${status})`, {
      hint: 'Check the user and password in HTTPS_PROXY / HTTP_PROXY (http://user:password@host:port).',
      cause: error,
    });
  }
  switch (code) {
    case 'KASH_PROXY_STATUS':
      return fail(`the proxy ${shown} refused to connect to ${url.host} (HTTP ${String(status)})`);
    case 'KASH_PROXY_GAVE_UP':
      return fail(
        `the proxy ${shown} dropped the tunnel to ${url.host}; kash gave up after ${MAX_TUNNEL_ATTEMPTS} tries`,
      );
    case 'KASH_PROXY_CLOSED':
      return fail(`the proxy ${shown} dropped the tunnel to ${url.host}`);
    case 'ECONNREFUSED':
      return fail(`could not connect to the proxy ${shown}: connection refused`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return fail(`could not resolve the proxy ${shown}`);
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return fail(`could not connect to the proxy ${shown}: timed out`);
    default:
      return fail(`the request to ${url.origin} through the proxy ${shown} failed${code ? ` (${code})` : ''}`);
  }
}

/** What the deepest cause says, e.g. Node's fetch refusing a port: "bad port". (Secrets are taken out where it is shown.) */
function innermostMessage(error: unknown): string {
  const said = messages(error).split(' | ').filter(Boolean).at(-1) ?? '';
  return said === '' ? 'unknown error' : sanitizeServerText(said, 80);
}

function messages(error: unknown): string {
  return [...causes(error)].map((e) => String((e as { message?: unknown }).message ?? '')).join(' | ');
}

/** A redirect is not followed: its target is named (and any secret in it redacted where it is shown). */
export function redirected(where: string, location: string | null): KashError {
  const target = location === null ? 'no location' : (URL.parse(location, where)?.href ?? 'an invalid location');
  return new KashError(
    ExitCode.service,
    `${where} answered with a redirect to ${target}; kash does not follow redirects`,
    {
      hint: 'Check --base-url / KASH_BASE_URL: it should be the service root itself, e.g. https://kash.click.',
    },
  );
}

/** An HTTP error status, with what the service said when it said it in the documented JSON. */
export function httpStatus(where: string, status: number, body: string, proxy: URL | undefined): KashError {
  let said: string | undefined;
  try {
    said = serverMessage(parseAnswer(body));
  } catch {
    said = undefined;
  }
  const via = proxy ? ` (through the proxy ${shownProxy(proxy)})` : '';
  return new KashError(ExitCode.service, `${where} answered HTTP ${status}${said ? `: ${said}` : ''}${via}`, {
    hint: status >= 500 ? 'The service is failing; try again in a few minutes.' : 'Check --base-url / KASH_BASE_URL.',
  });
}
