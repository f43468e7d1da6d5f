import { describe, expect, it } from 'vitest';
import { maskApiKey } from '../../src/output/mask.js';

describe('maskApiKey', () => {
  it.each([
    ['abcdefghijkl', 'abcd…ijkl'],
    ['abcdefghijklmnopqrstuvwxyz', 'abcd…wxyz'],
    ['0123456789abcdef0123456789abcdef', '0123…cdef'],
    ['🔑🔑🔑🔑ab🗝🗝🗝🗝cd', '🔑🔑🔑🔑…🗝🗝cd'],
  ])('shows only the ends of %j', (key, masked) => {
    expect(maskApiKey(key)).toBe(masked);
  });

  it.each(['', 'a', 'abcd', 'abcdefgh', 'abcdefghijk', '🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑'])(
    'hides all of the short key %j',
    (key) => {
      expect(maskApiKey(key)).toBe(maskApiKey('x'));
    },
  );

  it('the short placeholder holds nothing of the key', () => {
    expect(maskApiKey('abcdefghijk')).toMatch(/^[^a-k]+$/u);
  });
});
