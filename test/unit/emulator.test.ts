import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  accounts,
  type Emulator,
  type Fault,
  MAX_WRONG_OTP,
  ONE_MIB,
  OTP_TTL_MS,
  otpEmails,
  shops,
  startEmulator,
} from '../support/emulator.js';

const PASSWORD = '/workers/getAuthTokenWithPassword.php';
const LIST_SHOPS = '/workers/listShops.php';
const SEND_OTP = '/workers/getOTPForAccount.php';
const OTP_LOGIN = '/workers/getAuthTokenWithOTP.php';

let emulator: Emulator;

beforeEach(async () => {
  emulator = await startEmulator();
});

afterEach(async () => {
  await emulator.close();
});

function post(pathOrUrl: string, fields: Record<string, string>, init: RequestInit = {}) {
  return fetch(new URL(pathOrUrl, emulator.url), {
    method: 'POST',
    body: new URLSearchParams(fields),
    redirect: 'manual',
    ...init,
  });
}

/** Raw bytes: `Response.text()` would silently drop a BOM. */
async function bytes(res: Response): Promise<Buffer> {
  return Buffer.from(await res.arrayBuffer());
}

/** What a lenient client does: drop the BOM and surrounding whitespace, then parse. */
async function answer(res: Response): Promise<unknown> {
  return JSON.parse((await bytes(res)).toString('utf8').replace(/^\uFEFF/, ''));
}

async function requestCode(email: string, extra: Record<string, string> = {}): Promise<string> {
  const res = await post(SEND_OTP, { email, ...extra });
  expect(await answer(res)).toMatchObject({ success: 1, result: 'Email with OTP has been sent' });
  const code = emulator.lastCode(email);
  expect(code).toMatch(/^\d{6}$/);
  return code!;
}

describe('password login', () => {
  it('answers the demo credentials like PHP: text/html, BOM and newline before the JSON', async () => {
    const res = await post(PASSWORD, { login: accounts.demo.login, password: accounts.demo.password });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=UTF-8');
    const body = await bytes(res);
    expect([...body.subarray(0, 4)]).toEqual([0xef, 0xbb, 0xbf, 0x0a]);
    expect(JSON.parse(body.subarray(4).toString('utf8'))).toEqual({
      success: true,
      result: 'Here are your credentials',
      APIKEY: 'demo-api-key-0123456789abcdef',
      SHOPID: '42',
    });
  });

  it('accepts a password with quotes, a dollar and a space, and sends SHOPID as a number', async () => {
    const res = await post(PASSWORD, { login: 'shop2', password: `s3cret pass'"$x` });
    expect(await answer(res)).toEqual({
      success: true,
      result: 'Here are your credentials',
      APIKEY: accounts.shop2.apiKey,
      SHOPID: 1337,
    });
  });

  it('refuses a wrong password with HTTP 200 and "Authentication error"', async () => {
    const res = await post(PASSWORD, { login: accounts.demo.login, password: 'nope' });
    expect(res.status).toBe(200);
    expect(await answer(res)).toEqual({ success: false, result: 'Authentication error' });
  });

  it('answers the legacy account in the older {"result":"OK"} shape', async () => {
    const res = await post(PASSWORD, { login: accounts.legacy.login, password: accounts.legacy.password });
    expect(await answer(res)).toEqual({ result: 'OK', APIKEY: accounts.legacy.apiKey, SHOPID: accounts.legacy.shopId });
  });

  it('drops the PHP quirks when not lenient', async () => {
    const strict = await startEmulator({ lenient: false });
    try {
      const res = await fetch(`${strict.url}${PASSWORD}`, {
        method: 'POST',
        body: new URLSearchParams({ login: 'shop2', password: accounts.shop2.password }),
      });
      const body = await bytes(res);
      expect(body[0]).toBe('{'.charCodeAt(0));
      expect(JSON.parse(body.toString('utf8'))).toMatchObject({ success: true, SHOPID: '1337' });
    } finally {
      await strict.close();
    }
  });
});

describe('listShops', () => {
  it('lists both shops of two@ with same-origin links to request a code', async () => {
    const list = (await answer(await post(LIST_SHOPS, { email: otpEmails.two.email }))) as Array<
      Record<string, string>
    >;
    expect(list.map((s) => [s.accountTitle, s.accountID])).toEqual([
      ['Corner Café', '101'],
      ['Harbour Store', '102'],
    ]);
    for (const shop of list) {
      expect(shop.getOPTForAccount).toMatch(
        new RegExp(`^${emulator.url}${SEND_OTP.replace(/\./g, '\\.')}\\?accountID=${shop.accountID}&code=[0-9a-f]+$`),
      );
    }
  });

  it('filters by accountTitle', async () => {
    const list = await answer(await post(LIST_SHOPS, { email: otpEmails.two.email, accountTitle: 'Harbour Store' }));
    expect(list).toMatchObject([{ accountTitle: 'Harbour Store', accountID: '102' }]);
  });

  it('answers [] for an email without shops and for an unknown email', async () => {
    expect(await answer(await post(LIST_SHOPS, { email: otpEmails.none.email }))).toEqual([]);
    expect(await answer(await post(LIST_SHOPS, { email: 'stranger@example.com' }))).toEqual([]);
  });
});

describe('one-time codes', () => {
  it('sends a 6-digit code to the outbox and trades it once for the shop credentials', async () => {
    const res = await post(SEND_OTP, { email: otpEmails.one.email });
    const sent = (await answer(res)) as Record<string, unknown>;
    expect(sent).toMatchObject({ success: 1, result: 'Email with OTP has been sent' });
    expect(sent.consumeOTPlink).toMatch(new RegExp(`^${emulator.url}/`));
    expect(emulator.outbox).toEqual([
      { email: 'one@kash.click', accountId: null, code: expect.stringMatching(/^\d{6}$/), sentAt: expect.any(Date) },
    ]);

    const otp = emulator.lastCode(otpEmails.one.email)!;
    const login = await post(OTP_LOGIN, { email: otpEmails.one.email, otp });
    expect(await answer(login)).toEqual({
      success: 'true',
      result: 'Here are your credentials',
      APIKEY: shops.solo.apiKey,
      SHOPID: shops.solo.shopId,
    });
    const again = await post(OTP_LOGIN, { email: otpEmails.one.email, otp });
    expect(await answer(again)).toEqual({ success: false, result: 'OTP not found' });
  });

  it('refuses to send a code to an email without a shop', async () => {
    const res = await post(SEND_OTP, { email: otpEmails.none.email });
    expect(await answer(res)).toEqual({ success: false, result: 'Error sending email' });
    expect(emulator.outbox).toEqual([]);
    expect(emulator.lastCode(otpEmails.none.email)).toBeUndefined();
  });

  it('picks the first shop when an email with several shops names none', async () => {
    const otp = await requestCode(otpEmails.two.email);
    const res = await post(OTP_LOGIN, { email: otpEmails.two.email, otp });
    expect(await answer(res)).toMatchObject({ APIKEY: shops.corner.apiKey, SHOPID: '101' });
  });

  it('honours accountID in the body', async () => {
    const otp = await requestCode(otpEmails.two.email, { accountID: '102' });
    expect(emulator.outbox.at(-1)?.accountId).toBe('102');
    const res = await post(OTP_LOGIN, { email: otpEmails.two.email, otp });
    expect(await answer(res)).toMatchObject({ APIKEY: shops.harbour.apiKey, SHOPID: '102' });
  });

  it('follows the listShops link, whose query carries accountID and code', async () => {
    const list = (await answer(await post(LIST_SHOPS, { email: otpEmails.two.email }))) as Array<
      Record<string, string>
    >;
    const link = list.find((s) => s.accountID === '102')!.getOPTForAccount!;
    const sent = await post(link, { email: otpEmails.two.email });
    expect(await answer(sent)).toMatchObject({ success: 1 });
    expect(emulator.requests.at(-1)?.path).toBe(link.slice(emulator.url.length));

    const otp = emulator.lastCode(otpEmails.two.email)!;
    const res = await post(OTP_LOGIN, { email: otpEmails.two.email, otp });
    expect(await answer(res)).toMatchObject({ APIKEY: shops.harbour.apiKey });
  });

  it('issues a code without a request, for the shop asked for, which the OTP login then takes once', async () => {
    const otp = emulator.issueCode(otpEmails.two.email, '102');
    expect(emulator.requests).toEqual([]);
    expect(emulator.outbox).toEqual([
      { email: 'two@kash.click', accountId: '102', code: otp, sentAt: expect.any(Date) },
    ]);
    expect(await answer(await post(OTP_LOGIN, { email: otpEmails.two.email, otp }))).toMatchObject({
      APIKEY: shops.harbour.apiKey,
    });
    expect(await answer(await post(OTP_LOGIN, { email: otpEmails.two.email, otp }))).toMatchObject({ success: false });
    const first = emulator.issueCode(otpEmails.two.email);
    expect(await answer(await post(OTP_LOGIN, { email: otpEmails.two.email, otp: first }))).toMatchObject({
      APIKEY: shops.corner.apiKey,
    });
    expect(() => emulator.issueCode(otpEmails.none.email)).toThrow(/no shop/);
  });

  it('refuses a link whose code does not match its shop', async () => {
    const res = await post(`${SEND_OTP}?accountID=102&code=00000000`, { email: otpEmails.two.email });
    expect(await answer(res)).toEqual({ success: false, result: 'Error sending email' });
    expect(emulator.outbox).toEqual([]);
  });

  it('refuses an accountID that is not one of the email’s shops', async () => {
    const res = await post(SEND_OTP, { email: otpEmails.one.email, accountID: '102' });
    expect(await answer(res)).toEqual({ success: false, result: 'Error sending email' });
  });

  it('keeps a code valid until just before 5 minutes, then expires it', async () => {
    const fresh = await requestCode(otpEmails.one.email);
    emulator.outbox.at(-1)!.sentAt = new Date(Date.now() - OTP_TTL_MS + 10_000);
    expect(await answer(await post(OTP_LOGIN, { email: otpEmails.one.email, otp: fresh }))).toMatchObject({
      success: 'true',
    });

    const stale = await requestCode(otpEmails.one.email);
    emulator.outbox.at(-1)!.sentAt = new Date(Date.now() - OTP_TTL_MS - 1);
    expect(await answer(await post(OTP_LOGIN, { email: otpEmails.one.email, otp: stale }))).toEqual({
      success: false,
      result: 'OTP not found',
    });
  });

  it(`voids pending codes after ${MAX_WRONG_OTP} wrong tries, not before`, async () => {
    const email = otpEmails.one.email;
    const wrong = async (n: number) => {
      for (let i = 0; i < n; i++) await (await post(OTP_LOGIN, { email, otp: 'xxxxxx' })).arrayBuffer();
    };
    const survivor = await requestCode(email);
    await wrong(MAX_WRONG_OTP - 1);
    expect(await answer(await post(OTP_LOGIN, { email, otp: survivor }))).toMatchObject({ success: 'true' });

    const victim = await requestCode(email);
    await wrong(MAX_WRONG_OTP);
    expect(await answer(await post(OTP_LOGIN, { email, otp: victim }))).toEqual({
      success: false,
      result: 'OTP not found',
    });
  });
});

describe('HTTP', () => {
  it('answers 404 HTML for an unknown path', async () => {
    const res = await post('/workers/nothing.php', {});
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toContain('Not Found');
  });

  it('answers 405 to a GET', async () => {
    const res = await fetch(`${emulator.url}${PASSWORD}`);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });

  it('answers 400 to a body that is not form-encoded', async () => {
    const res = await post(
      PASSWORD,
      {},
      {
        body: JSON.stringify({ login: accounts.demo.login, password: accounts.demo.password }),
        headers: { 'content-type': 'application/json' },
      },
    );
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('Bad Request');
  });

  it('logs each request with its method, path and query, body, fields and headers', async () => {
    await (
      await post(`${LIST_SHOPS}?x=1`, { email: 'one@kash.click' }, { headers: { 'user-agent': 'kash-test' } })
    ).text();
    expect(emulator.requests).toEqual([
      {
        method: 'POST',
        path: `${LIST_SHOPS}?x=1`,
        body: 'email=one%40kash.click',
        fields: { email: 'one@kash.click' },
        query: new URLSearchParams('x=1'),
        headers: expect.objectContaining({ 'user-agent': 'kash-test' }),
      },
    ]);
  });
});

describe('faults', () => {
  it.each([PASSWORD, LIST_SHOPS, SEND_OTP, OTP_LOGIN])('applies to %s', async (path) => {
    emulator.fault = 'http500';
    const res = await post(path, { email: 'one@kash.click' });
    expect(res.status).toBe(500);
    expect(await res.text()).toContain('500 Internal Server Error');
  });

  it('html: 200 with an HTML page that is not JSON', async () => {
    emulator.fault = 'html';
    const res = await post(PASSWORD, {});
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const text = await res.text();
    expect(text).toMatch(/^<!DOCTYPE html>/);
    expect(() => JSON.parse(text)).toThrow();
  });

  it('slow: answers normally after slowMs', async () => {
    emulator.fault = 'slow';
    emulator.slowMs = 300;
    const started = performance.now();
    const res = await post(PASSWORD, { login: accounts.demo.login, password: accounts.demo.password });
    expect(await answer(res)).toMatchObject({ APIKEY: accounts.demo.apiKey });
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('redirect: 302 to another site', async () => {
    emulator.fault = 'redirect';
    const res = await post(PASSWORD, {});
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('https://elsewhere.example/login');
  });

  it('huge: a JSON body of 1 MiB + 1024 bytes', async () => {
    emulator.fault = 'huge';
    const res = await post(PASSWORD, {});
    expect(res.headers.get('content-length')).toBe(String(ONE_MIB + 1024));
    const body = await bytes(res);
    expect(body.length).toBe(ONE_MIB + 1024);
    expect(JSON.parse(body.toString('utf8'))).toMatchObject({ success: true, SHOPID: '42' });
  });

  it('exact1MiB: a valid success padded to exactly 1 MiB', async () => {
    emulator.fault = 'exact1MiB';
    const body = await bytes(await post(PASSWORD, {}));
    expect(body.length).toBe(ONE_MIB);
    expect(JSON.parse(body.toString('utf8'))).toMatchObject({ success: true, APIKEY: accounts.demo.apiKey });
  });

  it('noKey: a success with an empty APIKEY', async () => {
    emulator.fault = 'noKey';
    expect(await answer(await post(PASSWORD, {}))).toEqual({
      success: true,
      result: 'Here are your credentials',
      APIKEY: '',
      SHOPID: '42',
    });
  });

  it('keyNewline: a success whose APIKEY holds a line break', async () => {
    emulator.fault = 'keyNewline';
    const parsed = (await answer(await post(PASSWORD, {}))) as { success: unknown; APIKEY: string };
    expect(parsed.success).toBe(true);
    expect(parsed.APIKEY).toContain('\n');
  });

  it('drop: the connection closes without an answer', async () => {
    emulator.fault = 'drop';
    await expect(post(PASSWORD, {})).rejects.toThrow(TypeError);
    expect(emulator.requests).toHaveLength(1);
  });

  it('stallBody: headers and half a body, then nothing', async () => {
    emulator.fault = 'stallBody';
    const res = await post(PASSWORD, {}, { signal: AbortSignal.timeout(300) });
    expect(res.status).toBe(200);
    await expect(res.arrayBuffer()).rejects.toThrow();
  });

  it.each<Fault>(['stallBody', 'slow'])('close() is prompt with a %s request pending', async (fault) => {
    emulator.fault = fault;
    const pending = post(PASSWORD, {}).then((res) => res.arrayBuffer());
    pending.catch(() => {});
    while (emulator.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const started = performance.now();
    await emulator.close();
    expect(performance.now() - started).toBeLessThan(500);
    await expect(pending).rejects.toThrow();
  });
});
