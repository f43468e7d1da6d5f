/**
 * Property-based attacks on how server text is shown (../shared/CLI.md, "Streams":
 * "Server text is shown with control characters removed").
 *
 * Attacks tried, over text mixing printable ASCII, any Unicode code point and grapheme,
 * lone surrogates, C0/C1 controls, DEL, U+2028/U+2029, NEL, exotic spaces, bidi
 * overrides and isolates, and terminal escape sequences — CSI (7-bit and 8-bit \x9b),
 * OSC/DCS/SOS/PM/APC (7-bit and 8-bit) ended by BEL, ESC \ or \x9c or left unterminated,
 * two- and three-byte ESC sequences, a lone trailing ESC:
 *
 * 1. the result holds nothing `hasControlChars` finds (nor, restated, any C0, DEL, C1,
 *    U+2028/9), no ESC or \x9b, no bidi override or isolate, no leading, trailing or
 *    doubled whitespace, no lone surrogate that the input did not have, and at most
 *    `maxLength` characters;
 * 2. sanitising twice gives what sanitising once gave;
 * 3. printable ASCII comes through unchanged but for the collapse of runs of spaces (and
 *    a cut marked `…` when it is too long);
 * 4. an escape sequence goes whole — none of its parameters leak as text — and an
 *    unterminated string sequence swallows the rest, as a terminal would;
 * 5. line-breaking controls keep the words on either side apart;
 * 6. `hasControlChars` finds exactly C0, DEL, C1 and U+2028/U+2029, and
 *    `hasControlOrFormatChars` those and the format characters (Unicode Cf) too.
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { hasControlChars, hasControlOrFormatChars, sanitizeServerText } from '../../src/sanitize.js';

/** `KASH_PROPERTY_SCALE=50 npx vitest run …` searches fifty times harder than the quick default. */
const SCALE = Math.max(1, Number(process.env.KASH_PROPERTY_SCALE ?? 1) || 1);
const runs = (numRuns: number) => Math.ceil(numRuns * SCALE);
if (SCALE > 1) vi.setConfig({ testTimeout: 10_000 * SCALE });

const DEFAULT_MAX_LENGTH = 200;

// Restated from the contract and ECMA-48, not borrowed from src/.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;
const BIDI = /[\u202a-\u202e\u2066-\u2069]/u;
const illFormed = (text: string) => Buffer.from(text, 'utf8').toString('utf8') !== text;
const codePoints = (text: string) => Array.from(text).length;

// ---------------------------------------------------------------------------
// Generated text.

const char = (code: number) => String.fromCodePoint(code);
const oneOf = (chars: string) => fc.constantFrom(...Array.from(chars));
const asciiChar = fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 });
const printableAscii = fc.string({ unit: 'grapheme-ascii', maxLength: 30 });
/** Printable ASCII without spaces, so never empty after trimming. */
const word = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map(char), minLength: 1, maxLength: 8 });

const c0 = fc.integer({ min: 0, max: 0x1f }).map(char);
const c1 = fc.integer({ min: 0x80, max: 0x9f }).map(char);
const control = fc.oneof(c0, c1, fc.constantFrom('\u007f', '\u2028', '\u2029'));
const bidi = oneOf('\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069');
const space = oneOf(' \t\u00a0\u1680\u2000\u2001\u2002\u2003\u2009\u200a\u202f\u205f\u3000\ufeff\u200b');
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code));

const csiParams = fc.string({ unit: fc.integer({ min: 0x30, max: 0x3f }).map(char), maxLength: 8 });
const intermediates = fc.string({ unit: fc.integer({ min: 0x20, max: 0x2f }).map(char), maxLength: 2 });
/** CSI: introducer, parameter bytes, intermediate bytes, final byte. */
const csi = fc
  .tuple(fc.constantFrom('\u001b[', '\u009b'), csiParams, intermediates, fc.integer({ min: 0x40, max: 0x7e }).map(char))
  .map((parts) => parts.join(''));
/** Two- or three-byte ESC sequences (charset, reset, keypad…), but not the introducers of CSI and string sequences. */
const shortEscape = fc
  .tuple(
    intermediates,
    fc
      .integer({ min: 0x30, max: 0x7e })
      .map(char)
      .filter((c) => !'[]PX^_'.includes(c)),
  )
  .map(([i, final]) => `\u001b${i}${final}`);
/** OSC, DCS, SOS, PM and APC introducers, 7-bit and 8-bit. */
const stringIntroducer = fc.constantFrom(
  '\u001b]',
  '\u001bP',
  '\u001bX',
  '\u001b^',
  '\u001b_',
  '\u009d',
  '\u0090',
  '\u0098',
  '\u009e',
  '\u009f',
);
const stringTerminator = fc.constantFrom('\u0007', '\u001b\\', '\u009c');
/** What a string sequence may carry before its terminator: anything but BEL, ESC and \x9c. */
const stringPayload = fc
  .string({
    unit: fc.oneof(asciiChar, asciiChar, c0, c1, fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 })),
    maxLength: 20,
  })
  .map((payload) => payload.replace(/[\u0007\u001b\u009c]/gu, ''));
const terminatedString = fc.tuple(stringIntroducer, stringPayload, stringTerminator).map((parts) => parts.join(''));
const unterminatedString = fc.tuple(stringIntroducer, stringPayload).map((parts) => parts.join(''));
const completeEscape = fc.oneof(csi, shortEscape, terminatedString);

/** Text a hostile or broken server might send. */
const hostileText = fc.string({
  unit: fc.oneof(
    { weight: 8, arbitrary: asciiChar },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
    { weight: 3, arbitrary: control },
    { weight: 2, arbitrary: bidi },
    { weight: 2, arbitrary: space },
    { weight: 2, arbitrary: completeEscape },
    { weight: 1, arbitrary: unterminatedString },
    { weight: 1, arbitrary: fc.constantFrom('\u001b', '\u009b', '\u001b[', '\u001b]', '\u001b\\', '\u009c') },
    { weight: 1, arbitrary: loneSurrogate },
  ),
  maxLength: 300,
});
const maxLength = fc.option(fc.integer({ min: 1, max: 250 }), { nil: undefined });

// ---------------------------------------------------------------------------

describe('sanitizeServerText', () => {
  it('leaves no control, escape, bidi override or stray whitespace, and keeps within maxLength', () => {
    fc.assert(
      fc.property(hostileText, maxLength, (text, max) => {
        const shown = sanitizeServerText(text, max);
        expect(hasControlChars(shown), JSON.stringify(shown)).toBe(false);
        expect(shown).not.toMatch(CONTROL);
        expect(shown).not.toMatch(/[\u001b\u009b]/u);
        expect(shown).not.toMatch(BIDI);
        expect(shown).toBe(shown.trim());
        expect(shown).not.toMatch(/\s\s/u);
        expect(codePoints(shown)).toBeLessThanOrEqual(max ?? DEFAULT_MAX_LENGTH);
        if (!illFormed(text)) expect(illFormed(shown), 'a cut split a surrogate pair').toBe(false);
      }),
      { numRuns: runs(1000) },
    );
  });

  it('is idempotent: sanitising twice gives what sanitising once gave', () => {
    fc.assert(
      fc.property(hostileText, maxLength, (text, max) => {
        const once = sanitizeServerText(text, max);
        expect(sanitizeServerText(once, max)).toBe(once);
      }),
      { numRuns: runs(1000) },
    );
  });

  it('returns text that needs no pass as every pass would: a masked key, Latin-1 and its edges', () => {
    // Around the shortcut's alphabet: U+00A0 and U+00AD, which the passes change, and the
    // bullets and ellipsis that a masked key shows. A control at the end takes the full
    // passes, which leave nothing of it.
    const edgy = oneOf('\u00a0\u00a1\u00ac\u00ad\u00ae\u00ff\u2022\u2026\u200b\u2028 ');
    const text = fc.string({ unit: fc.oneof(asciiChar, edgy), maxLength: 40 });
    fc.assert(
      fc.property(text, maxLength, (shown, max) => {
        expect(sanitizeServerText(shown, max)).toBe(sanitizeServerText(`${shown}\u0001`, max));
      }),
      {
        numRuns: runs(2000),
        examples: [
          ['demo\u2026cdef', undefined],
          ['\u2022\u2022\u2022\u2022', 500],
        ],
      },
    );
  });

  it('keeps printable ASCII as it is, but for runs of spaces, and marks a cut with …', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-ascii', maxLength: 300 }), maxLength, (text, max) => {
        const collapsed = text.replace(/ +/gu, ' ').trim();
        const shown = sanitizeServerText(text, max);
        if (collapsed.length <= (max ?? DEFAULT_MAX_LENGTH)) {
          expect(shown).toBe(collapsed);
        } else {
          expect(shown.endsWith('…'), JSON.stringify(shown)).toBe(true);
          expect(collapsed.startsWith(shown.slice(0, -1)), JSON.stringify(shown)).toBe(true);
        }
      }),
      { numRuns: runs(1000) },
    );
  });

  it('removes an escape sequence whole: none of its parameters or payload leaks into the text', () => {
    fc.assert(
      fc.property(printableAscii, completeEscape, printableAscii, (before, sequence, after) => {
        expect(sanitizeServerText(before + sequence + after, 10_000)).toBe(sanitizeServerText(before + after, 10_000));
      }),
      { numRuns: runs(1000) },
    );
  });

  it('drops everything after an unterminated string sequence, as a terminal would swallow it', () => {
    fc.assert(
      fc.property(printableAscii, unterminatedString, (before, sequence) => {
        expect(sanitizeServerText(before + sequence, 10_000)).toBe(sanitizeServerText(before, 10_000));
      }),
      { numRuns: runs(500) },
    );
  });

  it('keeps the words on either side of a line-breaking control apart', () => {
    fc.assert(
      fc.property(
        word,
        fc.constantFrom('\t', '\n', '\v', '\f', '\r', '\r\n', '\u0085', '\u2028', '\u2029'),
        word,
        (a, br, b) => {
          expect(sanitizeServerText(`${a}${br}${b}`)).toBe(`${a} ${b}`);
        },
      ),
      { numRuns: runs(300) },
    );
  });
});

describe.each([
  ['hasControlChars', hasControlChars, 'C0, DEL, C1, U+2028 and U+2029', CONTROL],
  [
    'hasControlOrFormatChars',
    hasControlOrFormatChars,
    'those and the format characters (Unicode Cf)',
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029\p{Cf}]/u,
  ],
] as const)('%s', (_, finds, what, reference) => {
  it(`finds exactly ${what}, anywhere in any text`, () => {
    fc.assert(
      fc.property(hostileText, (text) => {
        expect(finds(text)).toBe(reference.test(text));
      }),
      { numRuns: runs(1000) },
    );
  });

  it('sweep: every code point and every lone surrogate, alone between two letters (U+00AD, the first format character, included)', () => {
    const wrong: string[] = [];
    for (let code = 0; code <= 0x10ffff; code++) {
      const text = `a${String.fromCodePoint(code)}b`;
      if (finds(text) !== reference.test(text)) wrong.push(`U+${code.toString(16).padStart(4, '0')}`);
    }
    expect(wrong).toEqual([]);
  });
});
