/**
 * A fake of the kash.click service (see "The service" in shared/CLI.md), for the
 * end-to-end tests and `npm run demo`.
 *
 * It runs inside the calling process. Tests that drive the CLI against it must spawn
 * the CLI asynchronously (`spawn`, `execFile`), never with `spawnSync`/`execFileSync`:
 * those block the event loop this server answers on, so the CLI would hang until its
 * own timeout.
 *
 * By default it answers the way a PHP service does, so that a client has to be
 * lenient: `text/html` content type everywhere, a UTF-8 BOM and a newline before the
 * JSON of the password endpoint, `"success":"true"` from the OTP login, `"success":1`
 * from the code request, and the SHOPID of the `shop2` account as a JSON number.
 * `lenient: false` keeps the content type but drops the JSON quirks, so answers match
 * the contract's table exactly.
 *
 * `tls: { key, cert }` serves over HTTPS instead (the url then starts with https://);
 * test/support/tls.ts makes a throw-away CA and a server certificate for it.
 */
import { randomBytes, randomInt } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';

export type Fault =
  | 'http500' // HTTP 500 with a short HTML body
  | 'html' // HTTP 200, text/html, an HTML page (not JSON)
  | 'slow' // waits `slowMs` before answering normally
  | 'redirect' // 302 with Location: https://elsewhere.example/login
  | 'huge' // HTTP 200, a JSON-looking body of 1 MiB + 1024 bytes
  | 'exact1MiB' // a valid success JSON padded with whitespace to exactly 1 MiB
  | 'noKey' // a success with an empty APIKEY
  | 'keyNewline' // a success whose APIKEY contains "\n"
  | 'drop' // destroys the socket without answering
  | 'stallBody' // sends headers and half a body, then never finishes (a stall mid-body)
  // The ones below answer normally, only delivered differently:
  | 'setCookie' // the normal answer, plus Set-Cookie headers (a client must not send them back)
  | 'gzip' // the normal answer, really gzip-compressed, with Content-Encoding: gzip
  | 'deflate' // the normal answer, really deflate-compressed, with Content-Encoding: deflate
  | 'brotli' // the normal answer, really brotli-compressed, with Content-Encoding: br
  | 'dribble' // the normal answer, one byte every `dribbleMs` (a deadline, not an idle timer, must end it)
  // And these fail:
  | 'gzipLie' // the normal answer's plain bytes under a Content-Encoding: gzip header
  | 'gzipHuge' // a gzip body of a few KiB that inflates to a valid success JSON of 1 MiB + 1 byte
  | 'over1MiB' // a valid success JSON padded with whitespace to exactly 1 MiB + 1 byte
  | 'redirectSameOrigin' // 302 with Location: /workers/moved.php (same origin, another path)
  | 'cutMidBody' // sends headers and half a body, then closes the connection
  | 'emptyBody' // HTTP 200 with an empty body
  // A service that echoes the request it got, as a careless PHP page does:
  | 'echo' // a refusal whose result quotes the raw request body
  | 'echoPage' // HTTP 500, an HTML page quoting the raw request body
  | 'echoRedirect' // a 302 whose Location carries the raw request body in its query
  | 'bigShopId' // a success whose SHOPID is the JSON number 12345678901234567890 (beyond exact floats)
  | 'bidiShopId'; // a success whose SHOPID holds U+202E, which would reorder what a person reads

export interface Mail {
  email: string;
  /** The accountID the client asked for, `null` when it asked for none. */
  accountId: string | null;
  code: string;
  /** Expiry is measured from here: a test may backdate it to expire the code. */
  sentAt: Date;
}

export interface Emulator {
  url: string;
  /** Applies to every endpoint while set. */
  fault: Fault | null;
  slowMs: number;
  /** The pause between bytes of the `dribble` fault. */
  dribbleMs: number;
  /** Status and target of the `redirect` fault (default 302 to https://elsewhere.example/login). */
  redirectStatus: number;
  redirectLocation: string;
  /** Sends every answer with chunked transfer encoding, without Content-Length. */
  chunked: boolean;
  /** The streamed export (getSales, formatExport=XLS) goes silent after this many bytes, the connection open. */
  exportStallsAfter: number | null;
  /** Every request: `fields` from a form body (`body` as it came), `query` from the URL. */
  requests: Array<{
    method: string;
    path: string;
    body: string;
    fields: Record<string, string>;
    query: URLSearchParams;
    headers: IncomingHttpHeaders;
  }>;
  outbox: Mail[];
  lastCode(email: string): string | undefined;
  /**
   * Emails a code to `email` for the shop `accountId` (the first of its shops when null),
   * as a code request would, without one; returns the code. For a test that writes the
   * pending request into the store itself.
   */
  issueCode(email: string, accountId?: string | null): string;
  close(): Promise<void>;
}

export interface EmulatorOptions {
  port?: number;
  host?: string;
  lenient?: boolean;
  /** Called for each code "emailed", so a person running the demo can read it. */
  onEmail?: (mail: Mail) => void;
  /** Serve HTTPS with this key and certificate (PEM); `url` then starts with https://. */
  tls?: { key: string | Buffer; cert: string | Buffer };
}

export interface Shop {
  accountId: string;
  title: string;
  apiKey: string;
  shopId: string | number;
}

export interface PasswordAccount extends Shop {
  login: string;
  password: string;
  /** Answers in the older `{"result":"OK","APIKEY":…,"SHOPID":…}` shape. */
  legacyShape?: boolean;
}

export const accounts = {
  demo: {
    login: 'demo@kash.click',
    password: 'demo-password',
    accountId: '42',
    title: 'Demo Bakery',
    apiKey: 'demo-api-key-0123456789abcdef',
    shopId: '42',
  },
  shop2: {
    login: 'shop2',
    password: `s3cret pass'"$x`,
    accountId: '1337',
    title: 'Second Shop',
    apiKey: 'shop2-api-key-fedcba9876543210',
    shopId: 1337,
  },
  legacy: {
    login: 'legacy',
    password: 'legacy-password',
    accountId: '7',
    title: 'Old Corner',
    apiKey: 'legacy-api-key-00112233445566',
    shopId: '7',
    legacyShape: true,
  },
} satisfies Record<string, PasswordAccount>;

export const shops = {
  solo: { accountId: '100', title: 'Solo Shop', apiKey: 'one-api-key-aaaaaaaaaaaaaaaa', shopId: '100' },
  corner: { accountId: '101', title: 'Corner Café', apiKey: 'corner-api-key-bbbbbbbbbbbbbb', shopId: '101' },
  harbour: { accountId: '102', title: 'Harbour Store', apiKey: 'harbour-api-key-cccccccccccccc', shopId: '102' },
} satisfies Record<string, Shop>;

/** Emails that can log in with a code, and the shops each one may pick from. */
export const otpEmails = {
  demo: { email: accounts.demo.login, shops: [accounts.demo] },
  one: { email: 'one@kash.click', shops: [shops.solo] },
  two: { email: 'two@kash.click', shops: [shops.corner, shops.harbour] },
  none: { email: 'none@kash.click', shops: [] },
} satisfies Record<string, { email: string; shops: Shop[] }>;

/** The payment modes getPaymentModes answers with (format=json, or csv). */
export const PAYMENT_MODES = [
  { id: 1, name: 'Espèces' },
  { id: 2, name: 'Carte bancaire' },
  { id: 3, name: 'Chèque' },
];

/**
 * What `getSales` sends for formatExport=PDF: a file's bytes, with a NUL, bytes of 0x80
 * and above and an escape sequence, as a binary export has.
 */
export const SALES_PDF = Buffer.concat([
  Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 'latin1'),
  Buffer.from([0x1b, 0x5b, 0x32, 0x4a, 0x00, 0xff, 0xfe, 0x80]),
  Buffer.from('\n%%EOF\n'),
]);

/**
 * The first `size` bytes of a streamed export of getSales (formatExport=XLS): byte p is
 * p mod 251, so that a byte lost, doubled or moved anywhere shows, and every byte value
 * below 251 (a NUL, an escape, 0x80 and above) is in it.
 */
export function exportBytes(size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let p = 0; p < size; p++) bytes[p] = p % 251;
  return bytes;
}

/** The shop ID of the bigShopId fault, as digits: as a JavaScript number it would lose the last ones. */
export const BIG_SHOP_ID = '12345678901234567890';

export const OTP_TTL_MS = 5 * 60_000;
export const MAX_WRONG_OTP = 5;
export const ONE_MIB = 1024 * 1024;
export const SAME_ORIGIN_REDIRECT_PATH = '/workers/moved.php';
export const DEFAULT_REDIRECT_LOCATION = 'https://elsewhere.example/login';
/** The cookie the `setCookie` fault sets. */
export const FAULT_COOKIE = 'PHPSESSID=kash-emulator-session';

const PATHS = {
  password: '/workers/getAuthTokenWithPassword.php',
  listShops: '/workers/listShops.php',
  sendOtp: '/workers/getOTPForAccount.php',
  otpLogin: '/workers/getAuthTokenWithOTP.php',
} as const;

/** The shop whose key and shop ID a request to the API carries, or undefined. */
function shopOfKey(params: Params): Shop | undefined {
  const all: Shop[] = [...Object.values(accounts), ...Object.values(shops)];
  return all.find((shop) => shop.apiKey === params.key && String(shop.shopId) === (params.idboutique ?? params.shopID));
}

/**
 * A few of the API's documented endpoints, as the service's pages describe them: reads
 * by GET (fields in the query), writes by POST (a form body), `key` and `idboutique` /
 * `shopID` checked. What it answers to a wrong key is not documented: here, a refusal.
 */
const API_ENDPOINTS = new Set(['getPaymentModes', 'getSales', 'webapp']);

function apiAnswer(
  name: string,
  method: string,
  params: Params,
  stream: { stallsAfter: number | null; closing: AbortSignal },
): { status: number; body: string | Buffer | (() => AsyncGenerator<Buffer>); type?: string } {
  if (!API_ENDPOINTS.has(name)) return { status: 404, body: page('404 Not Found') };
  if (!shopOfKey(params)) return { status: 200, body: '{"success":false,"result":"Wrong key or shop ID"}' };
  switch (name) {
    case 'getPaymentModes':
      if (params.format === 'csv') {
        return {
          status: 200,
          body: `id;name\n${PAYMENT_MODES.map((m) => `${m.id};${m.name}`).join('\n')}\n`,
          type: 'text/csv',
        };
      }
      return { status: 200, body: JSON.stringify(PAYMENT_MODES) };
    case 'getSales': {
      if (params.formatExport === 'PDF') return { status: 200, body: SALES_PDF, type: 'application/pdf' };
      if (params.formatExport === 'XLS') {
        // An export as large as `size` asks (bytes), streamed as it is made: one piece of
        // the pattern, a whole number of its cycles long, sent over and over.
        const size = Number(params.size ?? 1024);
        const end = Math.min(size, stream.stallsAfter ?? size);
        const piece = exportBytes(251 * 261);
        return {
          status: 200,
          type: 'application/vnd.ms-excel',
          body: async function* () {
            for (let sent = 0; sent < end; sent += piece.length)
              yield piece.subarray(0, Math.min(piece.length, end - sent));
            // Silent, the connection left open, until the emulator closes.
            if (end < size) await new Promise((closed) => stream.closing.addEventListener('abort', closed));
          },
        };
      }
      const day = `${params.y ?? '2026'}-${params.m ?? '12'}-${params.d ?? '01'}`;
      return { status: 200, body: `date;ticket;total\n${day};1;12.50\n${day};2;7.80\n`, type: 'text/csv' };
    }
    case 'webapp':
      if (method !== 'POST') return { status: 405, body: page('405 Method Not Allowed') };
      return { status: 200, body: JSON.stringify({ success: true, orderID: 1000 + Object.keys(params).length }) };
    default:
      return { status: 404, body: page('404 Not Found') };
  }
}

type Params = Record<string, string>;

interface Reply {
  json: unknown;
  /** PHP files saved with a BOM emit it, and the whitespace after it, before any output. */
  bom?: boolean;
}

interface PendingCode {
  mail: Mail;
  shop: Shop;
  used: boolean;
}

const HEADERS = { 'Content-Type': 'text/html; charset=UTF-8', 'X-Powered-By': 'PHP/8.2.12' };

const page = (title: string, body = `<h1>${title}</h1>`) =>
  `<!DOCTYPE html>\n<html><head><title>${title}</title></head><body>${body}</body></html>\n`;

const LOGIN_PAGE = page(
  'kash.click — Log in',
  '<form method="post" action="/login.php"><input name="login"><input name="password" type="password"></form>',
);

const credentials = (shop: Shop, success: unknown, shopId: string | number = String(shop.shopId)) => ({
  success,
  result: 'Here are your credentials',
  APIKEY: shop.apiKey,
  SHOPID: shopId,
});

/** The state and answers of the four endpoints, apart from HTTP. */
class Service {
  readonly outbox: Mail[] = [];
  readonly endpoints = new Map<string, (params: Params) => Reply>([
    [PATHS.password, (p) => ({ json: this.passwordLogin(p), bom: this.lenient })],
    [PATHS.listShops, (p) => ({ json: this.listShops(p) })],
    [PATHS.sendOtp, (p) => ({ json: this.sendOtp(p) })],
    [PATHS.otpLogin, (p) => ({ json: this.otpLogin(p) })],
  ]);
  private pending: PendingCode[] = [];
  private readonly wrongTries = new Map<string, number>();
  private readonly linkCodes = new Map<string, string>();

  constructor(
    private readonly url: string,
    private readonly lenient: boolean,
    private readonly onEmail: ((mail: Mail) => void) | undefined,
  ) {}

  private passwordLogin({ login = '', password }: Params) {
    const account: PasswordAccount | undefined = Object.values(accounts).find(
      (a) => a.login.toLowerCase() === login.toLowerCase() && a.password === password,
    );
    if (!account) return { success: false, result: 'Authentication error' };
    if (account.legacyShape) return { result: 'OK', APIKEY: account.apiKey, SHOPID: account.shopId };
    return this.credentials(account, true);
  }

  private listShops({ email = '', accountTitle }: Params) {
    const wanted = accountTitle?.toLowerCase();
    return shopsOf(email)
      .filter((shop) => wanted === undefined || shop.title.toLowerCase() === wanted)
      .map((shop) => ({
        accountTitle: shop.title,
        getOPTForAccount: `${this.url}${PATHS.sendOtp}?accountID=${shop.accountId}&code=${this.linkCode(shop)}`,
        accountID: shop.accountId,
      }));
  }

  private sendOtp({ email = '', accountID, code }: Params) {
    const candidates = shopsOf(email);
    const shop = accountID === undefined ? candidates[0] : candidates.find((s) => s.accountId === accountID);
    // The link's code ties it to one shop: a mangled or foreign link must not work.
    if (!shop || (code !== undefined && code !== this.linkCode(shop))) {
      return { success: false, result: 'Error sending email' };
    }
    const mail = this.email(email, accountID ?? null, shop);
    return {
      success: this.lenient ? 1 : true,
      result: 'Email with OTP has been sent',
      consumeOTPlink: `${this.url}${PATHS.otpLogin}?email=${encodeURIComponent(mail.email)}`,
    };
  }

  /** Sends a code for `shop` to `email`: the outbox and the codes the OTP login accepts hold it. */
  email(email: string, accountId: string | null, shop: Shop): Mail {
    const mail: Mail = {
      email: email.toLowerCase(),
      accountId,
      code: String(randomInt(0, 1_000_000)).padStart(6, '0'),
      sentAt: new Date(),
    };
    this.outbox.push(mail);
    this.pending.push({ mail, shop, used: false });
    this.onEmail?.(mail);
    return mail;
  }

  private otpLogin({ email = '', otp }: Params) {
    const address = email.toLowerCase();
    const now = Date.now();
    const hit = this.pending.find(
      (p) => p.mail.email === address && p.mail.code === otp && !p.used && now - p.mail.sentAt.getTime() < OTP_TTL_MS,
    );
    if (hit) {
      hit.used = true;
      this.wrongTries.delete(address);
      return this.credentials(hit.shop, this.lenient ? 'true' : true);
    }
    const tries = (this.wrongTries.get(address) ?? 0) + 1;
    this.wrongTries.set(address, tries);
    if (tries >= MAX_WRONG_OTP) {
      this.pending = this.pending.filter((p) => p.mail.email !== address);
      this.wrongTries.delete(address);
    }
    return { success: false, result: 'OTP not found' };
  }

  private credentials(shop: Shop, success: unknown) {
    return credentials(shop, success, this.lenient ? shop.shopId : String(shop.shopId));
  }

  private linkCode(shop: Shop): string {
    let code = this.linkCodes.get(shop.accountId);
    if (code === undefined) {
      code = randomBytes(4).toString('hex');
      this.linkCodes.set(shop.accountId, code);
    }
    return code;
  }
}

function shopsOf(email: string): Shop[] {
  const address = email.toLowerCase();
  return Object.values(otpEmails).find((e) => e.email === address)?.shops ?? [];
}

/** Faults that answer normally and change only how the answer travels. */
const DELIVERY_FAULTS = new Set<Fault>(['setCookie', 'gzip', 'deflate', 'brotli', 'dribble', 'gzipLie']);

const ENCODERS: Partial<Record<Fault, [encoding: string, encode: (body: Buffer) => Buffer]>> = {
  gzip: ['gzip', (body) => gzipSync(body)],
  deflate: ['deflate', (body) => deflateSync(body)],
  brotli: ['br', (body) => brotliCompressSync(body)],
  gzipLie: ['gzip', (body) => body],
};

interface Delivery {
  fault: Fault | null;
  chunked: boolean;
  dribbleMs: number;
  closing: AbortSignal;
}

function send(
  res: ServerResponse,
  status: number,
  body: string | Buffer,
  headers: Record<string, string> = {},
  how?: Delivery,
): void {
  let bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const extra: Record<string, string | string[]> = {};
  const fault = how?.fault ?? null;
  const encoder = fault ? ENCODERS[fault] : undefined;
  if (encoder) {
    extra['Content-Encoding'] = encoder[0];
    bytes = encoder[1](bytes);
  }
  if (fault === 'setCookie') {
    extra['Set-Cookie'] = [`${FAULT_COOKIE}; Path=/; HttpOnly`, 'kash_tracking=1; Path=/workers; Max-Age=3600'];
  }
  res.writeHead(status, {
    ...HEADERS,
    ...(how?.chunked ? {} : { 'Content-Length': String(bytes.length) }),
    ...headers,
    ...extra,
  });
  if (fault !== 'dribble') {
    res.end(bytes);
    return;
  }
  void (async () => {
    for (const byte of bytes) {
      if (res.destroyed) return;
      res.write(Buffer.of(byte));
      await sleep(how!.dribbleMs, undefined, { signal: how!.closing }).catch(() => res.destroy());
    }
    res.end();
  })();
}

function sendFault(
  req: IncomingMessage,
  res: ServerResponse,
  fault: Exclude<Fault, 'slow'>,
  emulator: Emulator,
  how: Delivery,
  raw: string,
): void {
  const success = JSON.stringify(credentials(accounts.demo, true));
  const plain = { ...how, fault: null };
  switch (fault) {
    case 'http500':
      send(res, 500, page('500 Internal Server Error'), {}, plain);
      return;
    case 'html':
      send(res, 200, LOGIN_PAGE, {}, plain);
      return;
    case 'redirect':
      send(res, emulator.redirectStatus, page('302 Found'), { Location: emulator.redirectLocation }, plain);
      return;
    case 'redirectSameOrigin':
      send(res, 302, page('302 Found'), { Location: SAME_ORIGIN_REDIRECT_PATH }, plain);
      return;
    case 'huge': {
      // Valid JSON, so that only a size limit catches it.
      const head = '{"success":true,"result":"Here are your credentials","APIKEY":"';
      const tail = '","SHOPID":"42"}';
      send(res, 200, head + 'k'.repeat(ONE_MIB + 1024 - head.length - tail.length) + tail, {}, plain);
      return;
    }
    case 'exact1MiB':
      send(res, 200, success.padEnd(ONE_MIB, ' '), {}, plain);
      return;
    case 'over1MiB':
      send(res, 200, success.padEnd(ONE_MIB + 1, ' '), {}, plain);
      return;
    case 'gzipHuge':
      send(res, 200, gzipSync(success.padEnd(ONE_MIB + 1, ' ')), { 'Content-Encoding': 'gzip' }, plain);
      return;
    case 'noKey':
      send(res, 200, '{"success":true,"result":"Here are your credentials","APIKEY":"","SHOPID":"42"}', {}, plain);
      return;
    case 'keyNewline':
      send(
        res,
        200,
        JSON.stringify(credentials({ ...accounts.demo, apiKey: 'demo-api-key\nexport EVIL=1' }, true)),
        {},
        plain,
      );
      return;
    case 'emptyBody':
      send(res, 200, '', {}, plain);
      return;
    case 'bigShopId':
      send(
        res,
        200,
        `{"success":true,"result":"Here are your credentials","APIKEY":"${accounts.demo.apiKey}","SHOPID":${BIG_SHOP_ID}}`,
        {},
        plain,
      );
      return;
    case 'bidiShopId':
      send(res, 200, JSON.stringify(credentials({ ...accounts.demo, shopId: '42\u202e17' }, true)), {}, plain);
      return;
    case 'echo':
      send(res, 200, JSON.stringify({ success: false, result: `Authentication error: got ${raw}` }), {}, plain);
      return;
    case 'echoPage':
      send(res, 500, page('500 Internal Server Error', `<pre>${raw}</pre>`), {}, plain);
      return;
    case 'echoRedirect':
      send(res, 302, page('302 Found'), { Location: `https://kash.click/login?${raw}` }, plain);
      return;
    case 'drop':
      req.socket.destroy();
      return;
    case 'stallBody':
    case 'cutMidBody': {
      const body = Buffer.from(success);
      res.writeHead(200, { ...HEADERS, 'Content-Length': String(body.length) });
      res.write(body.subarray(0, body.length >> 1));
      // Let the half reach the client before the connection goes.
      if (fault === 'cutMidBody') setTimeout(() => res.destroy(), 50);
      return;
    }
    case 'setCookie':
    case 'gzip':
    case 'deflate':
    case 'brotli':
    case 'dribble':
    case 'gzipLie':
      throw new Error(`${fault} answers normally; it is not sent here`);
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const host = options.host ?? '127.0.0.1';
  const server: Server = options.tls
    ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert })
    : createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `${options.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const service = new Service(url, options.lenient ?? true, options.onEmail);
  const closing = new AbortController();

  const emulator: Emulator = {
    url,
    fault: null,
    slowMs: 5000,
    dribbleMs: 100,
    redirectStatus: 302,
    redirectLocation: DEFAULT_REDIRECT_LOCATION,
    chunked: false,
    exportStallsAfter: null,
    requests: [],
    outbox: service.outbox,
    lastCode: (email) => service.outbox.filter((m) => m.email === email.toLowerCase()).at(-1)?.code,
    issueCode(email, accountId = null) {
      const candidates = shopsOf(email);
      const shop = accountId === null ? candidates[0] : candidates.find((s) => s.accountId === accountId);
      if (!shop) throw new Error(`${email} has no shop ${accountId ?? ''} to send a code for`);
      return service.email(email, accountId, shop).code;
    },
    close: () =>
      new Promise<void>((resolve) => {
        closing.abort();
        server.close(() => resolve());
        // Keep-alive and stalled connections would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://emulator');
    const mediaType = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
    const isForm = mediaType === 'application/x-www-form-urlencoded';
    const fields: Params = isForm ? Object.fromEntries(new URLSearchParams(raw)) : {};
    emulator.requests.push({
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      body: raw,
      fields,
      query: url.searchParams,
      headers: req.headers,
    });

    const fault = emulator.fault;
    const how: Delivery = { fault, chunked: emulator.chunked, dribbleMs: emulator.dribbleMs, closing: closing.signal };
    if (fault === 'slow') {
      try {
        await sleep(emulator.slowMs, undefined, { signal: closing.signal });
      } catch {
        return; // closing: the socket is being destroyed anyway
      }
    } else if (fault && !DELIVERY_FAULTS.has(fault)) {
      return sendFault(req, res, fault, emulator, how, raw);
    }

    const endpoint = service.endpoints.get(url.pathname);
    const apiName = /^\/workers\/(\w+)\.php$/.exec(url.pathname)?.[1];
    if (!endpoint && apiName !== undefined) {
      const answer = apiAnswer(
        apiName,
        req.method ?? 'GET',
        { ...Object.fromEntries(url.searchParams), ...fields },
        { stallsAfter: emulator.exportStallsAfter, closing: closing.signal },
      );
      const headers: Record<string, string> = answer.type ? { 'Content-Type': answer.type } : {};
      if (typeof answer.body !== 'function') {
        send(res, answer.status, answer.body, headers, how);
        return;
      }
      res.writeHead(answer.status, { ...HEADERS, ...headers });
      for await (const chunk of answer.body()) {
        if (res.destroyed) return;
        if (!res.write(chunk)) await new Promise((drained) => res.once('drain', drained));
      }
      res.end();
      return;
    }
    if (!endpoint) send(res, 404, page('404 Not Found'), {}, how);
    if (!endpoint) return;
    if (req.method !== 'POST') send(res, 405, page('405 Method Not Allowed'), { Allow: 'POST' }, how);
    if (req.method !== 'POST') return;
    if (!isForm) send(res, 400, page('400 Bad Request'), {}, how);
    if (!isForm) return;

    // Like PHP's $_REQUEST: the listShops link carries accountID and code in its query.
    const reply = endpoint({ ...Object.fromEntries(url.searchParams), ...fields });
    const json = JSON.stringify(reply.json);
    send(res, 200, reply.bom ? `\uFEFF\n${json}` : json, {}, how);
  }

  // Attached before this function returns, so no request can arrive unhandled.
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch(() => res.destroy());
  });
  return emulator;
}
