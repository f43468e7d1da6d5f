/**
 * Property-based attacks on the masked API key that `whoami` shows (../shared/CLI.md:
 * "the key masked (at most its first and last 4 characters, none of it when shorter than 12)").
 *
 * Attacks tried, over keys of every length around the 12-character threshold, made of
 * realistic key alphabets, printable ASCII, any code point, graphemes, astral characters
 * (surrogate pairs) and lone surrogates:
 *
 * 1. noninterference: the masked text depends on nothing but the first 4 and last 4
 *    characters of a long key — not its middle, not its length — and on nothing at all
 *    of a short one;
 * 2. a long key's masked text is at most its first 4 and last 4 characters around a mask;
 * 3. a short key's masked text holds no character of the key (so no sequence of 2 or more);
 * 4. the key itself (3 characters or more) never appears in its masked text;
 * 5. a surrogate pair is never split.
 *
 * Characters are code points, as `Array.from` counts them. Properties 2–4 draw keys
 * without the mask's own glyphs (… and •): a key such as "•••" is "in" any placeholder
 * of bullets without anything being revealed; property 1 covers those keys.
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { maskApiKey } from '../../src/output/mask.js';
import { hasControlChars } from '../../src/sanitize.js';

/** `KASH_PROPERTY_SCALE=50 npx vitest run …` searches fifty times harder than the quick default. */
const SCALE = Math.max(1, Number(process.env.KASH_PROPERTY_SCALE ?? 1) || 1);
const runs = (numRuns: number) => Math.ceil(numRuns * SCALE);
if (SCALE > 1) vi.setConfig({ testTimeout: 10_000 * SCALE });

const SHOWN = 4;
const MIN_REVEALING_LENGTH = 12;
const GLYPHS = /[…•]/u;

const chars = (text: string) => Array.from(text);
const illFormed = (text: string) => Buffer.from(text, 'utf8').toString('utf8') !== text;

// ---------------------------------------------------------------------------
// Generated keys: one "character" is one code point.

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code));
const keyChar = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...'0123456789abcdefABCDEF') },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0x10000, max: 0x10ffff }).map((code) => String.fromCodePoint(code)) },
  { weight: 1, arbitrary: fc.constantFrom('…', '•', '*', '.') },
  { weight: 1, arbitrary: loneSurrogate },
);
/** Between `min` and `max` characters (a lone high surrogate followed by a lone low one would fuse into one). */
const keyChars = (min: number, max: number) =>
  fc
    .array(keyChar, { minLength: min, maxLength: max })
    .map((cs) => cs.join(''))
    .filter((key) => chars(key).length >= min && chars(key).length <= max);
/** A key with its length spread around the threshold, and sometimes long. */
const anyKey = fc.oneof(keyChars(0, 11), keyChars(10, 14), keyChars(12, 64));
const longKey = keyChars(MIN_REVEALING_LENGTH, 64);
const shortKey = keyChars(0, MIN_REVEALING_LENGTH - 1);
const glyphFree = (key: string) => !GLYPHS.test(key);

// ---------------------------------------------------------------------------

describe('maskApiKey', () => {
  it('noninterference: a long key shows the same mask whatever its middle and length, given the same first and last 4', () => {
    fc.assert(
      fc.property(
        keyChars(SHOWN, SHOWN),
        keyChars(4, 40),
        keyChars(4, 40),
        keyChars(SHOWN, SHOWN),
        (head, middle1, middle2, tail) => {
          // The parts must not fuse into a surrogate pair where they meet.
          fc.pre(chars(head + middle1 + tail).length === chars(middle1).length + 2 * SHOWN);
          fc.pre(chars(head + middle2 + tail).length === chars(middle2).length + 2 * SHOWN);
          // A key holding a control character shows none of itself (the property below).
          fc.pre(!hasControlChars(head + middle1 + middle2 + tail));
          expect(maskApiKey(head + middle1 + tail)).toBe(maskApiKey(head + middle2 + tail));
        },
      ),
      { numRuns: runs(500) },
    );
  });

  it('a key holding a control character or line break shows none of itself, so nothing reaches the terminal', () => {
    fc.assert(
      fc.property(
        keyChars(0, 30),
        fc.constantFrom('\u001b', '\n', '\r', '\u0007', '\u009b', '\u2028', '\u007f'),
        keyChars(0, 30),
        (before, control, after) => {
          expect(maskApiKey(before + control + after)).toBe(maskApiKey('short'));
        },
      ),
      { numRuns: runs(300) },
    );
  });

  it('noninterference: every short key shows the same placeholder, which tells nothing, not even the length', () => {
    fc.assert(
      fc.property(shortKey, shortKey, (key1, key2) => {
        expect(maskApiKey(key1)).toBe(maskApiKey(key2));
      }),
      { numRuns: runs(500) },
    );
  });

  it('a long key shows at most its first 4 and last 4 characters, around nothing but the mask', () => {
    fc.assert(
      fc.property(longKey.filter(glyphFree), (key) => {
        const masked = maskApiKey(key);
        const k = chars(key);
        const m = chars(masked);
        const fits = (i: number, j: number) =>
          m.length >= i + j &&
          m.slice(0, i).join('') === k.slice(0, i).join('') &&
          m.slice(m.length - j).join('') === k.slice(k.length - j).join('') &&
          m.slice(i, m.length - j).every((c) => GLYPHS.test(c));
        const splits = [0, 1, 2, 3, 4].flatMap((i) => [0, 1, 2, 3, 4].map((j) => [i, j] as const));
        expect(
          splits.some(([i, j]) => fits(i, j)),
          `${JSON.stringify(masked)} is not at most the first and last 4 characters of ${JSON.stringify(key)}`,
        ).toBe(true);
      }),
      { numRuns: runs(1000) },
    );
  });

  it('a short key shows none of its characters, so no sequence of 2 or more either', () => {
    fc.assert(
      fc.property(shortKey.filter(glyphFree), (key) => {
        const masked = maskApiKey(key);
        const leaked = chars(key).filter((c) => masked.includes(c));
        expect(leaked, `${JSON.stringify(masked)} for ${JSON.stringify(key)}`).toEqual([]);
      }),
      { numRuns: runs(1000) },
    );
  });

  it('the key itself (3 characters or more) never appears in its mask', () => {
    fc.assert(
      fc.property(
        anyKey.filter((key) => glyphFree(key) && chars(key).length >= 3),
        (key) => {
          expect(maskApiKey(key)).not.toContain(key);
        },
      ),
      { numRuns: runs(1000) },
    );
  });

  it('never splits a surrogate pair', () => {
    fc.assert(
      fc.property(
        anyKey.filter((key) => !illFormed(key)),
        (key) => {
          expect(illFormed(maskApiKey(key)), JSON.stringify(key)).toBe(false);
        },
      ),
      { numRuns: runs(1000) },
    );
  });
});
