import { lazily } from '../lazy.js';
import { CUT_MARK } from '../sanitize.js';

/**
 * The secrets of this run (every password, code and key kash sent or received), and the
 * one function that takes them out of text before a person sees it. Fed by the request
 * layer, used where text is written (the Ui and the error line), so that no message,
 * however it was built — a server's echo, a redirect's target, a library's error —
 * can carry one to the screen.
 */
export class Secrets {
  readonly #values = new Set<string>();
  #patterns: { whole: RegExp; cut: () => RegExp } | undefined;

  add(value: string): void {
    if (value === '' || this.#values.has(value)) return;
    this.#values.add(value);
    this.#patterns = undefined;
  }

  /** The patterns are worked out at the first text that may hold a secret: most runs show none. */
  redact(text: string): string {
    if (this.#values.size === 0) return text;
    const values = [...this.#values];
    // Every other spelling of a printable ASCII character starts with one of the marks, and
    // a cut leaves one: without them, such secrets can be there only as themselves. This
    // spares most texts the patterns, which cost 20 M instructions to build on Node 26.
    if (!MARKS.test(text) && values.every((value) => PLAIN.test(value) && !text.includes(value))) return text;
    this.#patterns ??= patterns(values);
    const redacted = text.replace(this.#patterns.whole, '[redacted]');
    return redacted.includes(CUT_MARK) ? redacted.replace(this.#patterns.cut(), '[redacted]') : redacted;
  }
}

/** Printable ASCII: no character of it is losable, and each is spelled as itself or after a mark. */
const PLAIN = /^[!-~]+$/;
/** What starts a spelling other than the character itself (percent, JSON, HTML), and the mark of a cut. */
const MARKS = new RegExp(`[%\\\\&${CUT_MARK}]`);

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Hex digits in either case: PHP's rawurlencode and most servers write upper case, some lower. */
const hexDigits = (value: number, width: number) =>
  value
    .toString(16)
    .padStart(width, '0')
    .replace(/[a-f]/g, (digit) => `[${digit}${digit.toUpperCase()}]`);

const JSON_SHORT: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  '\b': 'b',
  '\f': 'f',
  '\n': 'n',
  '\r': 'r',
  '\t': 't',
};
const HTML_NAMED: Record<string, string[]> = {
  '&': ['amp'],
  '<': ['lt'],
  '>': ['gt'],
  '"': ['quot'],
  "'": ['apos'],
};

/**
 * Every way one character of a secret may come back: as it is; percent-encoded (UTF-8,
 * either case, as encodeURIComponent, a form or PHP's rawurlencode spell it); `+` for a
 * space; JSON-escaped (`\u00e9`, `\/`, surrogate pairs); HTML-escaped, named or numeric.
 */
function characterForms(char: string): string {
  const point = char.codePointAt(0) ?? 0;
  const forms = [escapeRegExp(char)];
  forms.push([...Buffer.from(char, 'utf8')].map((byte) => `%${hexDigits(byte, 2)}`).join(''));
  if (char === ' ') forms.push('\\+');
  const units = point > 0xffff ? [...char].flatMap((c) => [c.charCodeAt(0), c.charCodeAt(1)]) : [point];
  forms.push(units.map((unit) => `\\\\u${hexDigits(unit, 4)}`).join(''));
  const short = JSON_SHORT[char];
  if (short !== undefined) forms.push(`\\\\${escapeRegExp(short)}`);
  for (const name of HTML_NAMED[char] ?? []) forms.push(`&${name};`);
  forms.push(`&#0*${point};`, `&#[xX]0*${hexDigits(point, 1)};`);
  return `(?:${forms.join('|')})`;
}

/**
 * What server text shown loses (src/sanitize.ts): spaces and line breaks collapse to one
 * space or go at an edge; controls, zero-width and bidi characters go.
 */
const LOSABLE = lazily(() => /[\s\p{Cc}\p{Cf}]/u);

/**
 * One secret as a sequence of parts: a significant character, or a run of losable ones
 * (matched by any number of spaces or of their spellings, none included). Adjacent runs
 * are one part, so the pattern cannot backtrack without bound.
 */
function parts(value: string): Array<{ pattern: string; significant: boolean }> {
  const result: Array<{ pattern: string; significant: boolean }> = [];
  let losable: string[] = [];
  const endRun = () => {
    if (losable.length === 0) return;
    result.push({ pattern: `(?:\\s|${[...new Set(losable)].map(characterForms).join('|')})*`, significant: false });
    losable = [];
  };
  for (const char of value) {
    // Printable ASCII is never losable: most secrets then never build the \p{} pattern.
    if (!PLAIN.test(char) && LOSABLE().test(char)) {
      losable.push(char);
      continue;
    }
    endRun();
    result.push({ pattern: characterForms(char), significant: true });
  }
  endRun();
  return result;
}

/** Letters or digits on either side: a short value is taken out only where it stands alone. */
const ALONE_BEFORE = '(?<![\\p{L}\\p{N}])';
const ALONE_AFTER = '(?![\\p{L}\\p{N}])';
/** Below this many significant characters, a value must stand alone. */
const SHORT = 4;
/** What a cut may leave of the character it fell in: half a `%2F`, `\u00e9` or `&#39;`. */
const PARTIAL_SPELLING = '(?:%[0-9A-Fa-f]?|\\\\(?:u[0-9A-Fa-f]{0,3})?|&#?[xX]?[0-9A-Za-z]*)?';

/** `a(?:b(?:c)?)?`: the first part, then as many of the next ones as there are. */
const nested = (sequence: string[]) => sequence.reduceRight((inner, part) => `${part}(?:${inner})?`, '');

/**
 * `whole` matches a secret in any spelling; `cut` matches what is left of one where shown
 * text was cut short (any first part of it, before the `…`). Longest first, so that a
 * secret holding another is taken out whole.
 */
function patterns(values: string[]): { whole: RegExp; cut: () => RegExp } {
  const whole: string[] = [];
  const cut: string[] = [];
  for (const value of values.sort((a, b) => b.length - a.length)) {
    const sequence = trimmed(parts(value));
    const significant = sequence.filter((part) => part.significant).length;
    if (significant === 0) {
      whole.push(escapeRegExp(value));
      continue;
    }
    const spelled = sequence.map((part) => part.pattern);
    whole.push(significant >= SHORT ? spelled.join('') : `${ALONE_BEFORE}${spelled.join('')}${ALONE_AFTER}`);
    // Where the first SHORT significant characters end: a first part that long needs no neighbours' check.
    let end = 0;
    for (let seen = 0; end < sequence.length && seen < SHORT; end++) if (sequence[end]?.significant) seen++;
    if (significant >= SHORT) cut.push(`${spelled.slice(0, end).join('')}(?:${nested(spelled.slice(end))})?`);
    cut.push(`${ALONE_BEFORE}${nested(spelled.slice(0, end))}`);
  }
  return {
    whole: new RegExp(whole.join('|'), 'gu'),
    // Made only for a text that was cut: its \p{L} and \p{N} cost some 9 M instructions to build.
    cut: lazily(() => new RegExp(`(?:${cut.join('|')})${PARTIAL_SPELLING}(?=\\s*${CUT_MARK})`, 'gu')),
  };
}

/** Losable runs at either end are left to the text around: "got pw" must not become "got[redacted]". */
function trimmed<T extends { significant: boolean }>(sequence: T[]): T[] {
  let [first, end] = [0, sequence.length];
  while (first < end && !sequence[first]?.significant) first++;
  while (end > first && !sequence[end - 1]?.significant) end--;
  return sequence.slice(first, end);
}
