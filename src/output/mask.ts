import { hasControlChars } from '../sanitize.js';

/** Shown instead of a short key: fixed, so that it tells nothing of the key's length. */
const SHORT_KEY_PLACEHOLDER = '••••';

/** Keys shorter than this would give too much away even with only 8 characters shown. */
const MIN_REVEALING_LENGTH = 12;

/** An API key fit for a person's eyes: its first and last 4 characters at most. */
export function maskApiKey(key: string): string {
  // Count code points so that a surrogate pair is never split.
  const chars = Array.from(key);
  // A key from KASH_APIKEY is unchecked: none of it reaches a terminal if it holds controls.
  if (chars.length < MIN_REVEALING_LENGTH || hasControlChars(key)) return SHORT_KEY_PLACEHOLDER;
  return `${chars.slice(0, 4).join('')}…${chars.slice(-4).join('')}`;
}
