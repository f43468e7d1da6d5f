import { ExitCode, KashError } from '../errors.js';
import { type Credentials, codeSentFrom, credentialsFrom, parseAnswer, type Shop, shopsFrom } from './answers.js';
import { readAtMost1MiB } from './body-limit.js';
import { httpStatus, networkError, redirected } from './network-errors.js';
import { proxyFor } from './proxy.js';
import { fetchFor } from './transport.js';

export const ENDPOINTS = {
  password: '/workers/getAuthTokenWithPassword.php',
  requestCode: '/workers/getOTPForAccount.php',
  code: '/workers/getAuthTokenWithOTP.php',
  shops: '/workers/listShops.php',
} as const;

/** Form fields whose values never reach a log line or an error. */
const SECRET_FIELDS = new Set(['password', 'otp']);

export interface ClientOptions {
  baseUrl: string;
  timeoutMs: number;
  userAgent: string;
  /** Where HTTPS_PROXY, HTTP_PROXY and NO_PROXY are read; none are when absent. */
  env?: NodeJS.ProcessEnv | undefined;
  /** Warnings for a person. */
  warn?: ((message: string) => void) | undefined;
  /** Told every secret sent or received, so that nothing shown can carry it. */
  secret?: ((value: string) => void) | undefined;
  /** --verbose lines; secrets are redacted before they get here. */
  debug?: ((line: string) => void) | undefined;
}

/** The four calls of the kash.click API, each one POST with no redirect and no retry. */
export class ServiceClient {
  readonly #options: ClientOptions;
  #transport: Promise<typeof fetch> | undefined;

  constructor(options: ClientOptions) {
    this.#options = options;
  }

  #fetch(): Promise<typeof fetch> {
    this.#transport ??= fetchFor(new URL(this.#options.baseUrl), this.#options);
    return this.#transport;
  }

  /** Every request goes to the base URL's origin, so one decision serves them all. */
  #proxy(): URL | undefined {
    return proxyFor(new URL(this.#options.baseUrl), this.#options.env ?? {});
  }

  async loginWithPassword(login: string, password: string): Promise<Credentials> {
    return this.#received(
      await this.#post(this.#url(ENDPOINTS.password), { login, password }, (answer) =>
        credentialsFrom(
          answer,
          'Check the login and password; in a script, pass the password with --password-stdin or KASH_PASSWORD.',
        ),
      ),
    );
  }

  async loginWithCode(email: string, otp: string): Promise<Credentials> {
    return this.#received(
      await this.#post(this.#url(ENDPOINTS.code), { email, otp }, (answer) =>
        credentialsFrom(answer, 'Check the code in the latest email, or request a new one with `kash otp request`.'),
      ),
    );
  }

  #received(credentials: Credentials): Credentials {
    this.#options.secret?.(credentials.apiKey);
    return credentials;
  }

  async listShops(email: string, title?: string): Promise<Shop[]> {
    const fields: Record<string, string> = { email };
    if (title !== undefined) fields.accountTitle = title;
    return this.#post(this.#url(ENDPOINTS.shops), fields, (answer) => shopsFrom(answer, email, title));
  }

  /**
   * A shop picked from the list carries its own link (with a `code`); use it only when it
   * points at the service we were told to use, so a hostile list cannot redirect us.
   */
  async requestCode(email: string, shop?: { accountId: string; otpLink: string | null }): Promise<void> {
    const fields: Record<string, string> = { email };
    let url = this.#url(ENDPOINTS.requestCode);
    if (shop) {
      const link = shop.otpLink === null ? null : URL.parse(shop.otpLink);
      if (link && link.origin === new URL(this.#options.baseUrl).origin) url = link;
      else fields.accountID = shop.accountId;
    }
    await this.#post(url, fields, codeSentFrom);
  }

  #url(path: string): URL {
    return new URL(this.#options.baseUrl + path);
  }

  /** One POST, its answer read within the limits and handed to `interpret`. */
  async #post<T>(url: URL, fields: Record<string, string>, interpret: (answer: unknown) => T): Promise<T> {
    const where = url.origin + url.pathname;
    for (const [name, value] of Object.entries(fields)) if (SECRET_FIELDS.has(name)) this.#options.secret?.(value);
    const debug = this.#options.debug;
    debug?.(`POST ${where} ${describeFields(fields)}`);
    const started = performance.now();
    const transport = await this.#fetch();
    try {
      // A URL and its options, never a Request: undici pipes a Request's body through a
      // TransformStream, some 16 M instructions of web streams at a login on Node 24.
      const response = await transport(url, {
        method: 'POST',
        headers: { 'user-agent': this.#options.userAgent, accept: 'application/json, text/html;q=0.5' },
        body: new URLSearchParams(fields),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#options.timeoutMs),
      });
      debug?.(
        `${response.status} ${response.statusText} from ${where} after ${Math.round(performance.now() - started)} ms`,
      );
      if (response.status >= 300 && response.status < 400) {
        await response.body?.cancel();
        throw redirected(where, response.headers.get('location'));
      }
      const text = await readAtMost1MiB(response, where);
      debug?.(
        `read ${Buffer.byteLength(text)} bytes (${response.headers.get('content-type') ?? 'no content type'}) in ${Math.round(performance.now() - started)} ms`,
      );
      if (!response.ok) throw httpStatus(where, response.status, text, this.#proxy());
      return namingTheUrl(where, () => interpret(parseAnswer(text)));
    } catch (error) {
      if (error instanceof KashError) throw error;
      throw networkError(error, url, this.#options.timeoutMs, this.#proxy());
    }
  }
}

/** A bad answer names the URL it came from, as every other service failure does. */
function namingTheUrl<T>(where: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof KashError) || error.exitCode !== ExitCode.service) throw error;
    throw new KashError(ExitCode.service, `${error.message} (from ${where})`, { hint: error.hint });
  }
}

function describeFields(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([name, value]) => `${name}=${SECRET_FIELDS.has(name) ? '[redacted]' : JSON.stringify(value)}`)
    .join(' ');
}
