import { ExitCode, KashError } from '../errors.js';
import { hasControlOrFormatChars, quote, sanitizeServerText } from '../sanitize.js';

export interface Credentials {
  apiKey: string;
  shopId: string;
}

export interface Shop {
  accountId: string;
  title: string;
  /** The shop's own code-request link (`getOPTForAccount`), when the service gave one. */
  otpLink: string | null;
}

type Answer = Record<string, unknown>;

const notDocumented = (what: string) =>
  new KashError(ExitCode.service, `the service sent an answer kash does not understand: ${what}`, {
    hint: 'Check --base-url / KASH_BASE_URL points at the kash.click service; run with --verbose to see the exchange.',
  });

/**
 * An integer where an ID is expected keeps every digit: its literal is taken as text
 * before JSON.parse would turn 12345678901234567890 into 12345678901234567000. Any other
 * number there (1.5e3, 42.0) is no ID, and becomes null rather than 1500 or 42. (Inside a
 * JSON string the quotes around such a key are escaped, so the pattern cannot match there.)
 */
const NUMERIC_ID = /("(?:SHOPID|accountID)"\s*:\s*)(-?\d+)((?:\.\d+)?(?:[eE][+-]?\d+)?)(?=\s*[,}\]])/g;
const idAsText = (_match: string, key: string, digits: string, rest: string) =>
  rest === '' ? `${key}"${digits}"` : `${key}null`;

/** PHP may put a BOM or whitespace before the JSON and call it text/html; trim() removes both. */
export function parseAnswer(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed === '') throw notDocumented('an empty body');
  try {
    return JSON.parse(trimmed.replace(NUMERIC_ID, idAsText));
  } catch {
    throw notDocumented(trimmed.startsWith('<') ? 'an HTML page instead of JSON' : 'a body that is not JSON');
  }
}

function asObject(answer: unknown): Answer {
  if (answer === null || typeof answer !== 'object' || Array.isArray(answer)) throw notDocumented('not a JSON object');
  return answer as Answer;
}

const SUCCESS_VALUES = new Set<unknown>([true, 'true', 1, '1']);
const FAILURE_VALUES = new Set<unknown>([false, 'false', 0, '0']);

/** `true` or the older `{"result":"OK"}`; `false` on a documented refusal; otherwise not the documented JSON. */
function succeeded(answer: Answer): boolean {
  if (SUCCESS_VALUES.has(answer.success)) return true;
  if (FAILURE_VALUES.has(answer.success)) return false;
  if (answer.success === undefined && answer.result === 'OK') return true;
  throw notDocumented('no "success" field');
}

/** The server's own words, made safe for a terminal, for error messages. */
export function serverMessage(answer: unknown): string | undefined {
  if (answer === null || typeof answer !== 'object') return undefined;
  const result = (answer as Answer).result;
  if (typeof result !== 'string') return undefined;
  const clean = sanitizeServerText(result);
  return clean === '' ? undefined : clean;
}

function refused(answer: Answer, fallback: string, hint: string): KashError {
  return new KashError(ExitCode.refused, `the service refused: ${serverMessage(answer) ?? fallback}`, { hint });
}

/**
 * A non-empty string with no control or format characters, or an integer. (From the
 * wire, integers arrive as their literal text; a fraction or exponent is no ID.)
 */
function usableValue(value: unknown): string | undefined {
  const text = Number.isSafeInteger(value) ? String(value) : value;
  if (typeof text !== 'string' || text.trim() === '' || hasControlOrFormatChars(text)) return undefined;
  return text;
}

export function credentialsFrom(answer: unknown, refusalHint: string): Credentials {
  const object = asObject(answer);
  if (!succeeded(object)) throw refused(object, 'no reason given', refusalHint);
  const apiKey = usableValue(object.APIKEY);
  const shopId = usableValue(object.SHOPID);
  if (apiKey === undefined || shopId === undefined) {
    throw new KashError(
      ExitCode.service,
      'the service reported success but sent no usable API key and shop ID (missing, empty, or holding control or invisible characters)',
      { hint: 'Nothing was saved. Try again later; if it persists, the service is at fault.' },
    );
  }
  return { apiKey, shopId };
}

export function codeSentFrom(answer: unknown): void {
  const object = asObject(answer);
  if (!succeeded(object)) {
    throw refused(
      object,
      'the code email was not sent',
      'Check the email address, or list its shops with `kash shops --email <email>`.',
    );
  }
}

export function shopsFrom(answer: unknown, email: string, title?: string): Shop[] {
  if (!Array.isArray(answer)) throw notDocumented('the shop list is not a JSON array');
  if (answer.length === 0) {
    if (title !== undefined) {
      throw new KashError(ExitCode.refused, `no shop titled ${quote(title)} is linked to ${email}`, {
        hint: `Drop --title to list all of them: kash shops --email ${email}`,
      });
    }
    throw new KashError(ExitCode.refused, `no shop is linked to ${email}`, {
      hint: 'Check the email address you use to sign in at kash.click.',
    });
  }
  return answer.map((entry) => {
    const shop = asObject(entry);
    const accountId = usableValue(shop.accountID);
    if (accountId === undefined) throw notDocumented('a shop without an accountID');
    const link = typeof shop.getOPTForAccount === 'string' ? shop.getOPTForAccount : null;
    return {
      accountId,
      title: typeof shop.accountTitle === 'string' ? sanitizeServerText(shop.accountTitle) : '',
      otpLink: link,
    };
  });
}
