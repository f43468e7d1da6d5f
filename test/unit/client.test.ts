import { createServer } from 'node:net';
import { Readable } from 'node:stream';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ANSWER_BYTES } from '../../src/api/body-limit.js';
import { type ClientOptions, ENDPOINTS, ServiceClient } from '../../src/api/client.js';
import { ExitCode, KashError } from '../../src/errors.js';
import { Secrets } from '../../src/output/redact.js';

const BASE = 'https://kash.test';
const USER_AGENT = 'kash/9.8.7 (node; test)';

// Distinctive secrets, so that finding them anywhere in an error or a log line is meaningful.
const LOGIN = 'shop-owner@example.com';
const PASSWORD = 'Pa55&w=rd+ Sécret✓';
const EMAIL = 'owner@example.com';
const OTP = '77553311';
const API_KEY = 'KEY-f3a9c1e07b5d42a8-SECRET';
const SECRETS = [PASSWORD, encodeURIComponent(PASSWORD), OTP, API_KEY];

const CREDENTIALS_JSON = JSON.stringify({
  success: true,
  result: 'Here are your credentials',
  APIKEY: API_KEY,
  SHOPID: '42',
});

/** Requests nock could not match: a retry, a followed redirect, a wrong path or query. */
const unmatched: string[] = [];
const onNoMatch = (req: { method?: string; path?: string; href?: string; hostname?: string }) => {
  unmatched.push(`${req.method ?? '?'} ${req.href ?? `${req.hostname ?? ''}${req.path ?? ''}`}`);
};

beforeAll(() => {
  nock.disableNetConnect();
  nock.emitter.on('no match', onNoMatch);
});

afterEach(() => {
  const done = nock.isDone();
  const pending = nock.pendingMocks();
  const stray = unmatched.splice(0);
  nock.abortPendingRequests();
  nock.cleanAll();
  nock.disableNetConnect();
  expect(pending, 'every stub is used').toEqual([]);
  expect(done).toBe(true);
  expect(stray, 'no request went unmatched').toEqual([]);
});

afterAll(() => {
  nock.emitter.removeListener('no match', onNoMatch);
  nock.enableNetConnect();
});

function client(options: Partial<ClientOptions> = {}): ServiceClient {
  return new ServiceClient({ baseUrl: BASE, timeoutMs: 5_000, userAgent: USER_AGENT, ...options });
}

/** A client whose --verbose lines are kept. */
function verboseClient(options: Partial<ClientOptions> = {}): { client: ServiceClient; lines: string[] } {
  const lines: string[] = [];
  return { client: client({ ...options, debug: (line) => lines.push(line) }), lines };
}

async function failure(promise: Promise<unknown>): Promise<KashError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(KashError);
    return error as KashError;
  }
  throw new Error('expected the call to fail with a KashError, but it succeeded');
}

function expectNoSecrets(text: string): void {
  for (const secret of SECRETS) expect(text).not.toContain(secret);
}

function expectCleanError(error: KashError): void {
  expectNoSecrets(`${error.message}\n${error.hint ?? ''}`);
}

interface Seen {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** In order, duplicates kept. */
  fields: [string, string][];
}

type ReplyHeaders = Record<string, string>;

/**
 * One single-use interceptor that records what it received and answers with `status`, `body`.
 * `query` is the exact query the request must carry (none by default).
 */
function stub(
  path: string,
  status: number,
  body: string | (() => Readable),
  headers: ReplyHeaders = { 'Content-Type': 'application/json' },
  options: { base?: string; query?: Record<string, string> } = {},
): { seen: Seen[]; scope: nock.Scope } {
  const seen: Seen[] = [];
  let interceptor = nock(options.base ?? BASE).post(path);
  if (options.query) interceptor = interceptor.query(options.query);
  const scope = interceptor.reply(function (uri, requestBody) {
    const text = typeof requestBody === 'string' ? requestBody : JSON.stringify(requestBody);
    seen.push({
      method: this.req.method,
      path: uri,
      headers: this.req.headers,
      fields: [...new URLSearchParams(text)],
    });
    return [status, typeof body === 'string' ? body : body(), headers];
  });
  return { seen, scope };
}

function header(seen: Seen, name: string): string {
  const value = seen.headers[name];
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}

function expectFormPost(seen: Seen[], path: string, fields: [string, string][]): void {
  expect(seen).toHaveLength(1);
  const [request] = seen as [Seen];
  expect(request.method).toBe('POST');
  expect(request.path).toBe(path);
  expect(header(request, 'content-type')).toMatch(/^application\/x-www-form-urlencoded(;|$)/i);
  expect(header(request, 'user-agent')).toBe(USER_AGENT);
  expect(header(request, 'user-agent').startsWith('kash/')).toBe(true);
  expect([...request.fields].sort()).toEqual([...fields].sort());
}

describe('the four endpoints', () => {
  it('loginWithPassword posts exactly login and password as a form', async () => {
    const { seen } = stub(ENDPOINTS.password, 200, CREDENTIALS_JSON);
    await expect(client().loginWithPassword(LOGIN, PASSWORD)).resolves.toEqual({ apiKey: API_KEY, shopId: '42' });
    expectFormPost(seen, '/workers/getAuthTokenWithPassword.php', [
      ['login', LOGIN],
      ['password', PASSWORD],
    ]);
  });

  it('loginWithCode posts exactly email and otp as a form', async () => {
    const { seen } = stub(ENDPOINTS.code, 200, CREDENTIALS_JSON);
    await expect(client().loginWithCode(EMAIL, OTP)).resolves.toEqual({ apiKey: API_KEY, shopId: '42' });
    expectFormPost(seen, '/workers/getAuthTokenWithOTP.php', [
      ['email', EMAIL],
      ['otp', OTP],
    ]);
  });

  it('listShops posts only email when no title is given', async () => {
    const { seen } = stub(
      ENDPOINTS.shops,
      200,
      JSON.stringify([
        {
          accountTitle: 'My Shop',
          getOPTForAccount: `${BASE}/workers/getOTPForAccount.php?accountID=123&code=a25d5e4`,
          accountID: '123',
        },
        {
          accountTitle: 'Other',
          getOPTForAccount: `${BASE}/workers/getOTPForAccount.php?accountID=456&code=ffff`,
          accountID: 456,
        },
      ]),
    );
    await expect(client().listShops(EMAIL)).resolves.toEqual([
      {
        accountId: '123',
        title: 'My Shop',
        otpLink: `${BASE}/workers/getOTPForAccount.php?accountID=123&code=a25d5e4`,
      },
      { accountId: '456', title: 'Other', otpLink: `${BASE}/workers/getOTPForAccount.php?accountID=456&code=ffff` },
    ]);
    expectFormPost(seen, '/workers/listShops.php', [['email', EMAIL]]);
  });

  it('listShops posts email and accountTitle when a title is given', async () => {
    const { seen } = stub(ENDPOINTS.shops, 200, JSON.stringify([{ accountTitle: 'My Shop', accountID: '123' }]));
    await expect(client().listShops(EMAIL, 'My Shop & Co')).resolves.toEqual([
      { accountId: '123', title: 'My Shop', otpLink: null },
    ]);
    expectFormPost(seen, '/workers/listShops.php', [
      ['email', EMAIL],
      ['accountTitle', 'My Shop & Co'],
    ]);
  });

  it('requestCode without a shop posts only email', async () => {
    const { seen } = stub(
      ENDPOINTS.requestCode,
      200,
      JSON.stringify({ success: true, result: 'Email with OTP has been sent', consumeOTPlink: 'x' }),
    );
    await expect(client().requestCode(EMAIL)).resolves.toBeUndefined();
    expectFormPost(seen, '/workers/getOTPForAccount.php', [['email', EMAIL]]);
  });

  it('encodes awkward values so that they arrive exactly', async () => {
    const login = 'a+b&c=d %20 é@x';
    const { seen } = stub(ENDPOINTS.password, 200, CREDENTIALS_JSON);
    await client().loginWithPassword(login, PASSWORD);
    expect(seen[0]?.fields).toEqual(
      expect.arrayContaining([
        ['login', login],
        ['password', PASSWORD],
      ]),
    );
  });

  it('puts the endpoints under a base URL that has a path', async () => {
    const { seen } = stub('/kash/workers/getAuthTokenWithPassword.php', 200, CREDENTIALS_JSON);
    await expect(client({ baseUrl: `${BASE}/kash` }).loginWithPassword(LOGIN, PASSWORD)).resolves.toEqual({
      apiKey: API_KEY,
      shopId: '42',
    });
    expect(seen).toHaveLength(1);
  });
});

describe('lenient parsing of what PHP sends', () => {
  it.each([
    ['a UTF-8 BOM before the JSON', `\uFEFF${CREDENTIALS_JSON}`, { 'Content-Type': 'application/json' }],
    ['whitespace before and after the JSON', `\r\n\t  ${CREDENTIALS_JSON}\n\n`, { 'Content-Type': 'application/json' }],
    ['a BOM then whitespace', `\uFEFF\n  ${CREDENTIALS_JSON}`, { 'Content-Type': 'text/html; charset=UTF-8' }],
    ['Content-Type text/html', CREDENTIALS_JSON, { 'Content-Type': 'text/html; charset=UTF-8' }],
    ['no Content-Type at all', CREDENTIALS_JSON, {}],
  ])('accepts %s', async (_label, body, headers) => {
    stub(ENDPOINTS.password, 200, body, headers);
    await expect(client().loginWithPassword(LOGIN, PASSWORD)).resolves.toEqual({ apiKey: API_KEY, shopId: '42' });
  });

  it('accepts a BOM sent as raw UTF-8 bytes', async () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(CREDENTIALS_JSON)]);
    stub(ENDPOINTS.password, 200, () => Readable.from([bytes]), { 'Content-Type': 'text/html' });
    await expect(client().loginWithPassword(LOGIN, PASSWORD)).resolves.toEqual({ apiKey: API_KEY, shopId: '42' });
  });

  it.each([
    ['SHOPID as a number', { success: true, APIKEY: API_KEY, SHOPID: 42 }],
    ['success "true"', { success: 'true', APIKEY: API_KEY, SHOPID: '42' }],
    ['success 1', { success: 1, APIKEY: API_KEY, SHOPID: '42' }],
    ['the older {"result":"OK"} shape', { result: 'OK', APIKEY: API_KEY, SHOPID: 42 }],
  ])('accepts %s', async (_label, answer) => {
    stub(ENDPOINTS.code, 200, JSON.stringify(answer), { 'Content-Type': 'text/html' });
    await expect(client().loginWithCode(EMAIL, OTP)).resolves.toEqual({ apiKey: API_KEY, shopId: '42' });
  });
});

describe('refusals exit 3 with the server words', () => {
  it.each([
    [
      'loginWithPassword',
      ENDPOINTS.password,
      'Authentication error',
      (c: ServiceClient) => c.loginWithPassword(LOGIN, PASSWORD),
    ],
    ['loginWithCode', ENDPOINTS.code, 'OTP not found', (c: ServiceClient) => c.loginWithCode(EMAIL, OTP)],
    ['requestCode', ENDPOINTS.requestCode, 'Error sending email', (c: ServiceClient) => c.requestCode(EMAIL)],
  ])('%s', async (_name, path, result, call) => {
    stub(path, 200, JSON.stringify({ success: false, result }), { 'Content-Type': 'text/html' });
    const error = await failure(call(client()));
    expect(error.exitCode).toBe(ExitCode.refused);
    expect(error.exitCode).toBe(3);
    expect(error.message).toContain(result);
    expectCleanError(error);
  });

  it.each([
    ['success "false"', { success: 'false', result: 'Authentication error' }],
    ['success 0', { success: 0, result: 'Authentication error' }],
  ])('treats %s as a refusal', async (_label, answer) => {
    stub(ENDPOINTS.password, 200, JSON.stringify(answer));
    const error = await failure(client().loginWithPassword(LOGIN, PASSWORD));
    expect(error.exitCode).toBe(3);
    expect(error.message).toContain('Authentication error');
  });

  it('strips ANSI escapes and control characters from the server text', async () => {
    const result = '\u001b[31mAuthentication\u0007 error\u001b[0m\r\n\u001b]0;pwned\u0007 \u009b2Jnow';
    stub(ENDPOINTS.password, 200, JSON.stringify({ success: false, result }));
    const error = await failure(client().loginWithPassword(LOGIN, PASSWORD));
    expect(error.exitCode).toBe(3);
    expect(error.message).toContain('Authentication error');
    expect(error.message).toContain('now');
    expect(error.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(error.message).not.toContain('[31m');
    expect(error.message).not.toContain('[0m');
    expect(error.message).not.toContain('pwned');
    expect(error.message).not.toContain('\n');
  });

  it('listShops answering [] is exit 3 naming the email', async () => {
    stub(ENDPOINTS.shops, 200, '[]', { 'Content-Type': 'text/html' });
    const error = await failure(client().listShops(EMAIL));
    expect(error.exitCode).toBe(3);
    expect(error.message).toContain(EMAIL);
  });
});

describe('server faults exit 4', () => {
  it.each([
    ['success without APIKEY', JSON.stringify({ success: true, result: 'Here are your credentials', SHOPID: '42' })],
    ['success with an empty APIKEY', JSON.stringify({ success: true, APIKEY: '', SHOPID: '42' })],
    ['success with a blank APIKEY', JSON.stringify({ success: true, APIKEY: '   ', SHOPID: '42' })],
    ['success without SHOPID', JSON.stringify({ success: true, APIKEY: API_KEY })],
    ['success with an empty SHOPID', JSON.stringify({ success: true, APIKEY: API_KEY, SHOPID: '' })],
    ['an APIKEY holding a line break', JSON.stringify({ success: true, APIKEY: `${API_KEY}\n`, SHOPID: '42' })],
    ['an APIKEY holding a carriage return', JSON.stringify({ success: true, APIKEY: `${API_KEY}\rX`, SHOPID: '42' })],
    ['an APIKEY holding an escape', JSON.stringify({ success: true, APIKEY: `\u001b[2J${API_KEY}`, SHOPID: '42' })],
    ['an APIKEY holding a NUL', JSON.stringify({ success: true, APIKEY: `${API_KEY}\u0000`, SHOPID: '42' })],
    ['a SHOPID holding a line break', JSON.stringify({ success: true, APIKEY: API_KEY, SHOPID: '42\nexport X=1' })],
    ['a SHOPID holding a control character', JSON.stringify({ success: true, APIKEY: API_KEY, SHOPID: '42\u0007' })],
    ['an HTML page', '<!DOCTYPE html><html><body>Maintenance</body></html>'],
    ['a body that is not JSON', 'Fatal error: Uncaught Exception in /var/www/workers/x.php'],
    ['an empty body', ''],
    ['a body of only whitespace', ' \r\n\t '],
    ['a JSON array where an object is expected', JSON.stringify([{ success: true, APIKEY: API_KEY, SHOPID: '42' }])],
    ['JSON null', 'null'],
    ['a JSON string', '"OK"'],
    [
      'an object with no success field',
      JSON.stringify({ result: 'Here are your credentials', APIKEY: API_KEY, SHOPID: '42' }),
    ],
    ['truncated JSON', CREDENTIALS_JSON.slice(0, 30)],
  ])('%s', async (_label, body) => {
    stub(ENDPOINTS.password, 200, body, { 'Content-Type': 'text/html' });
    const error = await failure(client().loginWithPassword(LOGIN, PASSWORD));
    expect(error.exitCode).toBe(ExitCode.service);
    expect(error.exitCode).toBe(4);
    expectCleanError(error);
  });

  it('says an HTML page is HTML', async () => {
    stub(ENDPOINTS.code, 200, '\n<html><body>Not here</body></html>', { 'Content-Type': 'text/html' });
    const error = await failure(client().loginWithCode(EMAIL, OTP));
    expect(error.exitCode).toBe(4);
    expect(error.message).toMatch(/HTML/);
  });

  it('listShops answering an object instead of an array is exit 4', async () => {
    stub(ENDPOINTS.shops, 200, JSON.stringify({ success: true, result: 'OK' }));
    const error = await failure(client().listShops(EMAIL));
    expect(error.exitCode).toBe(4);
  });

  it('requestCode answering an array is exit 4', async () => {
    stub(ENDPOINTS.requestCode, 200, '[]');
    const error = await failure(client().requestCode(EMAIL));
    expect(error.exitCode).toBe(4);
  });

  it.each([
    [500, '<html><body>Internal Server Error</body></html>', { 'Content-Type': 'text/html' }],
    [500, '', {}],
    [502, 'Bad Gateway', { 'Content-Type': 'text/plain' }],
    [503, JSON.stringify({ success: false, result: 'Maintenance' }), { 'Content-Type': 'application/json' }],
    [404, '<html><body>Not Found</body></html>', { 'Content-Type': 'text/html' }],
    [403, JSON.stringify({ success: false, result: 'Forbidden' }), { 'Content-Type': 'application/json' }],
  ])('HTTP %i is exit 4 naming the status, requested once', async (status, body, headers) => {
    const { seen } = stub(ENDPOINTS.password, status, body, headers);
    const error = await failure(client().loginWithPassword(LOGIN, PASSWORD));
    expect(error.exitCode).toBe(4);
    expect(error.message).toContain(String(status));
    expect(seen).toHaveLength(1);
    expectCleanError(error);
  });

  it('HTTP 500 carrying what looks like credentials is still exit 4 and does not echo the key', async () => {
    stub(ENDPOINTS.code, 500, CREDENTIALS_JSON);
    const error = await failure(client().loginWithCode(EMAIL, OTP));
    expect(error.exitCode).toBe(4);
    expect(error.message).toContain('500');
    expectCleanError(error);
  });

  it('HTTP 500 shows the server words sanitised', async () => {
    stub(ENDPOINTS.password, 500, JSON.stringify({ success: false, result: '\u001b[31mDatabase down\u001b[0m' }));
    const error = await failure(client().loginWithPassword(LOGIN, PASSWORD));
    expect(error.message).toContain('Database down');
    expect(error.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });
});

describe('redirects are not followed', () => {
  it.each([301, 302, 303, 307, 308])(
    'a %i is exit 4 naming its target, and the target is never requested',
    async (status) => {
      const { scope } = stub(ENDPOINTS.password, status, '', { Location: 'https://elsewhere.test/steal?x=1' });
      const target = nock('https://elsewhere.test')
        .post('/steal')
        .query(true)
        .reply(200, CREDENTIALS_JSON)
        .get('/steal')
        .query(true)
        .reply(200, CREDENTIALS_JSON);
      const error = await failure(client().loginWithPassword(LOGIN, PASSWORD));
      expect(error.exitCode).toBe(4);
      expect(error.message).toContain('https://elsewhere.test/steal?x=1');
      expect(error.message).toMatch(/redirect/i);
      expectCleanError(error);
      expect(scope.isDone()).toBe(true);
      expect(target.isDone()).toBe(false);
      expect(target.pendingMocks()).toHaveLength(2);
      nock.cleanAll(); // the target stubs are meant to stay unused
    },
  );

  it('resolves a relative Location against the request URL, and does not follow it', async () => {
    stub(ENDPOINTS.code, 302, '', { Location: '/login.php' });
    const target = nock(BASE)
      .post('/login.php')
      .reply(200, CREDENTIALS_JSON)
      .get('/login.php')
      .reply(200, CREDENTIALS_JSON);
    const error = await failure(client().loginWithCode(EMAIL, OTP));
    expect(error.exitCode).toBe(4);
    expect(error.message).toContain('https://kash.test/login.php');
    expect(target.isDone()).toBe(false);
    nock.cleanAll();
  });

  it('a redirect without a Location is still exit 4', async () => {
    stub(ENDPOINTS.shops, 302, '', {});
    const error = await failure(client().listShops(EMAIL));
    expect(error.exitCode).toBe(4);
    expect(error.message).toMatch(/redirect/i);
  });
});

describe('answer size limit', () => {
  const padded = (json: string, size: number) => json + ' '.repeat(size - Buffer.byteLength(json));

  it('refuses a body over 1 MiB declared by Content-Length', async () => {
    const body = padded(CREDENTIALS_JSON, MAX_ANSWER_BYTES + 1);
    stub(ENDPOINTS.password, 200, body, {
      'Content-Type': 'application/json',
      'Content-Length': String(Buffer.byteLength(body)),
    });
    const error = await failure(client().loginWithPassword(LOGIN, PASSWORD));
    expect(error.exitCode).toBe(4);
    expect(error.message).toMatch(/1 MiB/);
    expectCleanError(error);
  });

  it('refuses a chunked body over 1 MiB sent without Content-Length', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const chunks = [Buffer.from(CREDENTIALS_JSON), ...Array.from({ length: 17 }, () => chunk)];
    stub(ENDPOINTS.password, 200, () => Readable.from(chunks), { 'Content-Type': 'application/json' });
    const error = await failure(client().loginWithPassword(LOGIN, PASSWORD));
    expect(error.exitCode).toBe(4);
    expect(error.message).toMatch(/1 MiB/);
  });

  it('refuses 1 MiB + 1 byte of valid JSON sent chunked without Content-Length', async () => {
    const body = Buffer.from(padded(CREDENTIALS_JSON, MAX_ANSWER_BYTES + 1));
    const chunks = Array.from({ length: 17 }, (_, i) => body.subarray(i * 65536, (i + 1) * 65536));
    stub(ENDPOINTS.password, 200, () => Readable.from(chunks), { 'Content-Type': 'application/json' });
    const error = await failure(client().loginWithPassword(LOGIN, PASSWORD));
    expect(error.exitCode).toBe(4);
    expect(error.message).toMatch(/1 MiB/);
    expectCleanError(error);
  });

  it('accepts exactly 1 MiB of valid JSON padded with spaces (with Content-Length)', async () => {
    const body = padded(CREDENTIALS_JSON, MAX_ANSWER_BYTES);
    expect(Buffer.byteLength(body)).toBe(1024 * 1024);
    stub(ENDPOINTS.password, 200, body, {
      'Content-Type': 'application/json',
      'Content-Length': String(MAX_ANSWER_BYTES),
    });
    await expect(client().loginWithPassword(LOGIN, PASSWORD)).resolves.toEqual({ apiKey: API_KEY, shopId: '42' });
  });

  it('accepts exactly 1 MiB of valid JSON padded with spaces (chunked)', async () => {
    const body = Buffer.from(padded(CREDENTIALS_JSON, MAX_ANSWER_BYTES));
    const chunks = Array.from({ length: 16 }, (_, i) => body.subarray(i * 65536, (i + 1) * 65536));
    stub(ENDPOINTS.password, 200, () => Readable.from(chunks), { 'Content-Type': 'application/json' });
    await expect(client().loginWithPassword(LOGIN, PASSWORD)).resolves.toEqual({ apiKey: API_KEY, shopId: '42' });
  });
});

describe('network failures exit 4', () => {
  it('times out when the service does not answer, with a message saying so', async () => {
    nock(BASE).post(ENDPOINTS.password).delay(2_000).reply(200, CREDENTIALS_JSON);
    const started = Date.now();
    const error = await failure(client({ timeoutMs: 200 }).loginWithPassword(LOGIN, PASSWORD));
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(error.exitCode).toBe(4);
    expect(error.message).toMatch(/did not answer/);
    expect(error.message).toContain('kash.test');
    expect(error.hint).toMatch(/--timeout|KASH_TIMEOUT/);
    expectCleanError(error);
  });

  it('times out when the headers arrive but the body stalls', async () => {
    nock(BASE).post(ENDPOINTS.code).delayBody(2_000).reply(200, CREDENTIALS_JSON);
    const started = Date.now();
    const error = await failure(client({ timeoutMs: 200 }).loginWithCode(EMAIL, OTP));
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(error.exitCode).toBe(4);
    expect(error.message).toMatch(/did not answer/);
  });

  it('reports a refused connection (a real closed port on 127.0.0.1)', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    await new Promise((resolve) => server.close(resolve));
    nock.enableNetConnect(`127.0.0.1:${address.port}`);
    const base = `http://127.0.0.1:${address.port}`;
    const error = await failure(client({ baseUrl: base }).loginWithPassword(LOGIN, PASSWORD));
    expect(error.exitCode).toBe(4);
    expect(error.message).toMatch(/connection refused/);
    expect(error.message).toContain(base);
    expectCleanError(error);
    // nock reports a request it lets through as unmatched: exactly one attempt was made.
    expect(unmatched.splice(0)).toEqual([`POST ${base}/workers/getAuthTokenWithPassword.php`]);
  });

  it.each([
    ['ECONNREFUSED', /connection refused/],
    ['ENOTFOUND', /could not resolve kash\.test/],
    ['ECONNRESET', /closed the connection/],
    ['ETIMEDOUT', /timed out/],
  ])('%s is exit 4, requested exactly once', async (code, message) => {
    const scope = nock(BASE)
      .post(ENDPOINTS.password)
      .replyWithError({ code, message: `connect ${code}` });
    const error = await failure(client().loginWithPassword(LOGIN, PASSWORD));
    expect(scope.isDone()).toBe(true);
    expect(error.exitCode).toBe(4);
    expect(error.message).toMatch(message);
    expectCleanError(error);
  });

  it.each([
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'SELF_SIGNED_CERT_IN_CHAIN',
    'CERT_HAS_EXPIRED',
    'ERR_TLS_CERT_ALTNAME_INVALID',
  ])('a TLS verification error %s is exit 4 with a NODE_EXTRA_CA_CERTS hint', async (code) => {
    nock(BASE).post(ENDPOINTS.code).replyWithError({ code, message: 'unable to verify the first certificate' });
    const error = await failure(client().loginWithCode(EMAIL, OTP));
    expect(error.exitCode).toBe(4);
    expect(error.message).toContain('kash.test');
    expect(error.message).toMatch(/certificate|TLS/i);
    expect(error.hint).toContain('NODE_EXTRA_CA_CERTS');
    expectCleanError(error);
  });

  it('finds the TLS code when fetch wraps it as the cause of "fetch failed"', async () => {
    const inner = Object.assign(new Error('unable to verify the first certificate'), {
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
    nock(BASE)
      .post(ENDPOINTS.shops)
      .replyWithError(new TypeError('fetch failed', { cause: inner }));
    const error = await failure(client().listShops(EMAIL));
    expect(error.exitCode).toBe(4);
    expect(error.hint).toContain('NODE_EXTRA_CA_CERTS');
  });
});

describe('no automatic retry', () => {
  it('an HTTP 500 is requested exactly once', async () => {
    let hits = 0;
    nock(BASE)
      .post(ENDPOINTS.password)
      .times(5)
      .reply(() => {
        hits++;
        return [500, 'oops'];
      });
    const error = await failure(client().loginWithPassword(LOGIN, PASSWORD));
    expect(error.exitCode).toBe(4);
    expect(hits).toBe(1);
    nock.cleanAll(); // the extra allowed times are meant to stay unused
  });

  it('a network error is requested exactly once', async () => {
    let hits = 0;
    const scope = nock(BASE)
      .post(ENDPOINTS.requestCode)
      .times(5)
      .replyWithError({ code: 'ECONNRESET', message: 'socket hang up' });
    scope.on('request', () => hits++);
    const error = await failure(client().requestCode(EMAIL));
    expect(error.exitCode).toBe(4);
    expect(hits).toBe(1);
    expect(scope.pendingMocks()).toHaveLength(1); // 4 of the 5 allowed remain
    nock.cleanAll();
  });

  it('a timeout is requested exactly once', async () => {
    let hits = 0;
    const scope = nock(BASE).post(ENDPOINTS.code).times(3).delay(1_000).reply(200, CREDENTIALS_JSON);
    scope.on('request', () => hits++);
    const error = await failure(client({ timeoutMs: 100 }).loginWithCode(EMAIL, OTP));
    expect(error.exitCode).toBe(4);
    expect(hits).toBe(1);
    nock.cleanAll();
  });
});

describe('requestCode with a shop picked from the list', () => {
  const sent = JSON.stringify({ success: true, result: 'Email with OTP has been sent', consumeOTPlink: 'x' });

  it('uses the shop link, with its query string, when it has the base URL origin', async () => {
    const { seen } = stub(
      ENDPOINTS.requestCode,
      200,
      sent,
      { 'Content-Type': 'text/html' },
      { query: { accountID: '123', code: 'a25d5e4' } },
    );
    await client().requestCode(EMAIL, {
      accountId: '123',
      otpLink: `${BASE}/workers/getOTPForAccount.php?accountID=123&code=a25d5e4`,
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]?.path).toBe('/workers/getOTPForAccount.php?accountID=123&code=a25d5e4');
    expect(seen[0]?.method).toBe('POST');
    expect(seen[0]?.fields).toContainEqual(['email', EMAIL]);
    expect(header(seen[0]!, 'content-type')).toMatch(/^application\/x-www-form-urlencoded/);
  });

  it('treats an explicit default port and upper-case host as the same origin', async () => {
    const { seen } = stub(ENDPOINTS.requestCode, 200, sent, undefined, { query: { accountID: '9', code: 'c0de' } });
    await client().requestCode(EMAIL, {
      accountId: '9',
      otpLink: 'https://KASH.test:443/workers/getOTPForAccount.php?accountID=9&code=c0de',
    });
    expect(seen).toHaveLength(1);
  });

  it('uses the same-origin link even when the base URL has a path', async () => {
    const { seen } = stub('/other/getOTPForAccount.php', 200, sent, undefined, { query: { code: 'zz' } });
    await client({ baseUrl: `${BASE}/kash` }).requestCode(EMAIL, {
      accountId: '7',
      otpLink: `${BASE}/other/getOTPForAccount.php?code=zz`,
    });
    expect(seen).toHaveLength(1);
  });

  it.each([
    ['another host', 'https://evil.test/workers/getOTPForAccount.php?accountID=123&code=a25d5e4'],
    ['another scheme', 'http://kash.test/workers/getOTPForAccount.php?accountID=123&code=a25d5e4'],
    ['another port', 'https://kash.test:8443/workers/getOTPForAccount.php?accountID=123&code=a25d5e4'],
    ['a sub-domain', 'https://evil.kash.test/workers/getOTPForAccount.php?accountID=123&code=a25d5e4'],
    ['a user-info trick', 'https://kash.test@evil.test/workers/getOTPForAccount.php?accountID=123&code=a25d5e4'],
    ['no link at all', null],
    ['a link that is not a URL', 'not a url'],
  ])('falls back to the documented endpoint with accountID for %s', async (_label, otpLink) => {
    const evil = nock('https://evil.test').post(/.*/).query(true).reply(200, sent);
    const evilSub = nock('https://evil.kash.test').post(/.*/).query(true).reply(200, sent);
    const other = nock('https://kash.test:8443').post(/.*/).query(true).reply(200, sent);
    const plain = nock('http://kash.test').post(/.*/).query(true).reply(200, sent);
    const { seen } = stub(ENDPOINTS.requestCode, 200, sent);
    await client().requestCode(EMAIL, { accountId: '123', otpLink });
    expectFormPost(seen, '/workers/getOTPForAccount.php', [
      ['email', EMAIL],
      ['accountID', '123'],
    ]);
    for (const scope of [evil, evilSub, other, plain]) expect(scope.isDone()).toBe(false);
    nock.cleanAll();
  });
});

describe('--verbose debug lines', () => {
  it('shows method, URL, status and timings for a password login, and no secret', async () => {
    stub(ENDPOINTS.password, 200, CREDENTIALS_JSON);
    const { client: c, lines } = verboseClient();
    await c.loginWithPassword(LOGIN, PASSWORD);
    const text = lines.join('\n');
    expect(text).toContain('POST https://kash.test/workers/getAuthTokenWithPassword.php');
    expect(text).toMatch(/\b200\b/);
    expect(text).toMatch(/\d+ ms/);
    expect(text).toContain(LOGIN);
    expectNoSecrets(text);
  });

  it('shows no OTP and no API key for a code login', async () => {
    stub(ENDPOINTS.code, 200, CREDENTIALS_JSON);
    const { client: c, lines } = verboseClient();
    await c.loginWithCode(EMAIL, OTP);
    const text = lines.join('\n');
    expect(text).toContain('POST https://kash.test/workers/getAuthTokenWithOTP.php');
    expect(text).toMatch(/\b200\b/);
    expect(text).toMatch(/\d+ ms/);
    expectNoSecrets(text);
  });

  it('shows the status of a failing request, and no secret', async () => {
    stub(ENDPOINTS.password, 500, CREDENTIALS_JSON);
    const { client: c, lines } = verboseClient();
    await failure(c.loginWithPassword(LOGIN, PASSWORD));
    const text = lines.join('\n');
    expect(text).toContain('POST https://kash.test/workers/getAuthTokenWithPassword.php');
    expect(text).toMatch(/\b500\b/);
    expectNoSecrets(text);
  });

  it('shows a redirect status, and no secret', async () => {
    stub(ENDPOINTS.code, 302, '', { Location: 'https://elsewhere.test/' });
    const { client: c, lines } = verboseClient();
    await failure(c.loginWithCode(EMAIL, OTP));
    const text = lines.join('\n');
    expect(text).toMatch(/\b302\b/);
    expectNoSecrets(text);
  });

  it('logs nothing secret when the request times out', async () => {
    nock(BASE).post(ENDPOINTS.password).delay(1_000).reply(200, CREDENTIALS_JSON);
    const { client: c, lines } = verboseClient({ timeoutMs: 100 });
    await failure(c.loginWithPassword(LOGIN, PASSWORD));
    const text = lines.join('\n');
    expect(text).toContain('POST https://kash.test/workers/getAuthTokenWithPassword.php');
    expectNoSecrets(text);
  });
});

describe('errors never carry a secret', () => {
  const failures: [string, () => void, (c: ServiceClient) => Promise<unknown>][] = [
    [
      'password refusal echoing nothing',
      () => void stub(ENDPOINTS.password, 200, '{"success":false,"result":"Authentication error"}'),
      (c) => c.loginWithPassword(LOGIN, PASSWORD),
    ],
    [
      'OTP refusal',
      () => void stub(ENDPOINTS.code, 200, '{"success":false,"result":"OTP not found"}'),
      (c) => c.loginWithCode(EMAIL, OTP),
    ],
    [
      'key with a line break',
      () => void stub(ENDPOINTS.code, 200, JSON.stringify({ success: true, APIKEY: `${API_KEY}\n`, SHOPID: '1' })),
      (c) => c.loginWithCode(EMAIL, OTP),
    ],
    [
      'key but no shop',
      () => void stub(ENDPOINTS.password, 200, JSON.stringify({ success: true, APIKEY: API_KEY })),
      (c) => c.loginWithPassword(LOGIN, PASSWORD),
    ],
    [
      'key but bad shop',
      () => void stub(ENDPOINTS.password, 200, JSON.stringify({ success: true, APIKEY: API_KEY, SHOPID: 'a\u2028b' })),
      (c) => c.loginWithPassword(LOGIN, PASSWORD),
    ],
    [
      'key in a 500',
      () => void stub(ENDPOINTS.password, 500, CREDENTIALS_JSON),
      (c) => c.loginWithPassword(LOGIN, PASSWORD),
    ],
    [
      'key in an array',
      () => void stub(ENDPOINTS.code, 200, `[${CREDENTIALS_JSON}]`),
      (c) => c.loginWithCode(EMAIL, OTP),
    ],
    [
      'network error',
      () => void nock(BASE).post(ENDPOINTS.password).replyWithError({ code: 'ECONNRESET' }),
      (c) => c.loginWithPassword(LOGIN, PASSWORD),
    ],
    [
      'unknown network error',
      () => void nock(BASE).post(ENDPOINTS.code).replyWithError(`boom ${OTP}`),
      (c) => c.loginWithCode(EMAIL, OTP),
    ],
  ];
  // What is shown passes the run's secrets filter, which the client feeds with what it sent.
  it.each(failures)('%s', async (_label, arrange, call) => {
    arrange();
    const secrets = new Secrets();
    const error = await failure(call(client({ secret: (value) => secrets.add(value) })));
    expect([3, 4]).toContain(error.exitCode);
    expectNoSecrets(secrets.redact(`${error.message}\n${error.hint ?? ''}`));
  });

  it('tells the filter each password and code it sends, and each key it receives', async () => {
    stub(ENDPOINTS.password, 200, CREDENTIALS_JSON);
    const told: string[] = [];
    await client({ secret: (value) => told.push(value) }).loginWithPassword(LOGIN, PASSWORD);
    expect(told).toEqual([PASSWORD, API_KEY]);
  });
});
