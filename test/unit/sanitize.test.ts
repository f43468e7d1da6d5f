import { describe, expect, it } from 'vitest';
import { hasControlChars, sanitizeServerText } from '../../src/sanitize.js';

describe('sanitizeServerText', () => {
  it.each([
    ['Authentication error', 'Authentication error'],
    ['  OTP   not\tfound \n', 'OTP not found'],
    ['line one\r\nline two', 'line one line two'],
    ['a\u2028b\u2029c\u0085d', 'a b c d'],
    ['bell\u0007 and null\u0000 and del\u007f and c1\u0090\u009f', 'bell and null and del and c1'],
    ['\u001b[31mred\u001b[0m text', 'red text'],
    ['\u001b[2J\u001b[1;1Hcleared', 'cleared'],
    ['\u009b31mred', 'red'],
    ['\u001b]0;evil title\u0007shown', 'shown'],
    ['\u001b]8;;https://evil.example\u001b\\click\u001b]8;;\u001b\\ here', 'click here'],
    ['\u009d0;title\u009cshown', 'shown'],
    ['\u001bP1$r0m\u001b\\shown', 'shown'],
    ['\u001b]52;c;Y3VybCBldmls', ''],
    ['\u001bcreset', 'reset'],
    ['\u001b(Bcharset', 'charset'],
    ['trailing escape\u001b', 'trailing escape'],
    ['user \u202eevil\u202c name', 'user evil name'],
    ['\u202a\u202b\u202d\u2066\u2067\u2068\u2069isolated', 'isolated'],
    ['ünïcødé ✓ 🔑', 'ünïcødé ✓ 🔑'],
    // Latin-1 text and a masked key are left as they are; its soft hyphen (a format
    // character) and no-break space (a space) are not.
    ['Corner Café ¿sí? demo…cdef', 'Corner Café ¿sí? demo…cdef'],
    ['Caf\u00e9 soft\u00adhyphen', 'Café softhyphen'],
    ['Caf\u00e9\u00a0\u00a0au lait', 'Café au lait'],
  ])('%j shows as %j', (text, shown) => {
    expect(sanitizeServerText(text)).toBe(shown);
  });

  it.each([
    ['abcdef', 6, 'abcdef'],
    ['abcdefg', 6, 'abcde…'],
    ['abcd efgh', 6, 'abcd…'],
    ['🔑🔑🔑🔑', 3, '🔑🔑…'],
    ['x'.repeat(200), undefined, 'x'.repeat(200)],
    ['x'.repeat(201), undefined, `${'x'.repeat(199)}…`],
  ])('cuts %j to %s characters', (text, maxLength, shown) => {
    expect(sanitizeServerText(text, maxLength)).toBe(shown);
  });

  it('counts length after cleaning', () => {
    expect(sanitizeServerText(`\u001b[31m${'x'.repeat(10)}\u001b[0m   `, 10)).toBe('x'.repeat(10));
  });
});

describe('hasControlChars', () => {
  it.each(['\u0000', '\t', '\n', '\r', '\u001b', '\u001f', '\u007f', '\u0080', '\u0085', '\u009f', '\u2028', '\u2029'])(
    'finds %j',
    (char) => {
      expect(hasControlChars(`key${char}key`)).toBe(true);
    },
  );

  it.each(['', 'abc123', 'a b', 'ünïcødé 🔑', '\u00a0', '\u202e', '\'"$`\\%!^'])('finds none in %j', (text) => {
    expect(hasControlChars(text)).toBe(false);
  });
});
