import { lazily } from './lazy.js';

/** C0 controls, DEL, C1 controls and the Unicode line/paragraph separators. */
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;

/**
 * Terminal escape sequences, removed whole so that their parameters do not leak
 * into the text as garbage: string sequences (OSC, DCS, SOS, PM, APC, in 7-bit and
 * 8-bit form) up to their terminator or the end of the text, since a terminal would
 * swallow an unterminated one; CSI sequences; then any other ESC sequence.
 */
const ESCAPE_SEQUENCE = new RegExp(
  [
    String.raw`(?:\u001b[\]PX^_]|[\u0090\u0098\u009d\u009e\u009f])[\s\S]*?(?:\u0007|\u001b\\|\u009c|$)`,
    String.raw`(?:\u001b\[|\u009b)[0-?]*[ -/]*[@-~]`,
    String.raw`\u001b[ -/]*[0-~]`,
  ].join('|'),
  'gu',
);

/** Line-breaking controls become spaces, so that the words on either side stay apart. */
const BREAKING_CONTROLS = /[\t\n\v\f\r\u0085\u2028\u2029]/gu;

/**
 * What is left of C0, DEL and C1, plus the format characters (Unicode Cf): bidi
 * overrides and isolates that reorder what a person reads, zero-width characters that
 * hide what is there.
 */
const INVISIBLE = lazily(() => /[\u0000-\u001f\u007f-\u009f\p{Cf}]/gu);

const FORMAT_CHARS = lazily(() => /\p{Cf}/u);

/** Below U+00AD, the first format character: most keys, shop IDs and logins, for which \p{Cf} is never built. */
const BEFORE_FORMAT_CHARS = /^[\u0000-\u00ac]*$/;

/**
 * Words of printable ASCII, Latin-1 letters and signs (but U+00AD, a format character)
 * and what a masked key shows (an ellipsis, or the bullets that stand for a short key),
 * one space apart: text that every pass below would leave as it is.
 */
const PLAIN = /^[!-~\u00a1-\u00ac\u00ae-\u00ff\u2022\u2026]+(?: [!-~\u00a1-\u00ac\u00ae-\u00ff\u2022\u2026]+)*$/;

/** What ends text cut short at its length bound (and what redaction looks before, for half a secret). */
export const CUT_MARK = '…';

/** Server text made safe to show to a person: one line, no controls, at most `maxLength` characters. */
export function sanitizeServerText(text: string, maxLength = 200): string {
  // Most text shown (a shop ID, a login, a date) needs no Unicode-aware pass, whose patterns cost a compile.
  if (maxLength >= 1 && text.length <= maxLength && PLAIN.test(text)) return text;
  const clean = text
    .replace(ESCAPE_SEQUENCE, '')
    .replace(BREAKING_CONTROLS, ' ')
    .replace(INVISIBLE(), '')
    .replace(/\s+/gu, ' ')
    .trim();
  // Count code points so that a cut never splits a surrogate pair.
  const chars = Array.from(clean);
  if (maxLength < 1) return '';
  if (chars.length <= maxLength) return clean;
  return `${chars
    .slice(0, maxLength - 1)
    .join('')
    .trimEnd()}${CUT_MARK}`;
}

/** Whether `s` holds a C0 or C1 control, DEL, or a Unicode line or paragraph separator. */
export function hasControlChars(s: string): boolean {
  return CONTROL_CHARS.test(s);
}

/** Controls as above, or format characters: what no key, shop ID or input may hold. */
export function hasControlOrFormatChars(s: string): boolean {
  return CONTROL_CHARS.test(s) || (!BEFORE_FORMAT_CHARS.test(s) && FORMAT_CHARS().test(s));
}

/**
 * A value the user gave, quoted for an error message: cut short (a 100 kB flag must not
 * become a 100 kB error line) and with every control and line separator escaped, the
 * ones JSON leaves raw (C1, U+2028, U+2029) included.
 */
export function quote(value: string, maxLength = 60): string {
  const chars = Array.from(value);
  const shown = chars.length > maxLength ? `${chars.slice(0, maxLength).join('')}${CUT_MARK}` : value;
  return JSON.stringify(shown).replace(/[\u007f-\u009f\u2028\u2029\p{Cf}]/gu, (c) => {
    const point = c.codePointAt(0) ?? 0;
    return point > 0xffff ? `\\u{${point.toString(16)}}` : `\\u${point.toString(16).padStart(4, '0')}`;
  });
}
