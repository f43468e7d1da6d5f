/**
 * The secrets of this run (every password, code and key kash sent or received), and the
 * one function that takes them out of text before a person sees it. Fed by the request
 * layer, used where text is written (the Ui and the error line), so that no message,
 * however it was built — a server's echo, a redirect's target, a library's error —
 * can carry one to the screen.
 */
export class Secrets {
  readonly #values = new Set<string>();
  #patterns: RegExp | undefined;

  add(value: string): void {
    if (value === '' || this.#values.has(value)) return;
    this.#values.add(value);
    this.#patterns = undefined;
  }

  /** The spellings and their pattern are worked out at the first text to redact: most runs show none. */
  redact(text: string): string {
    if (this.#values.size === 0) return text;
    this.#patterns ??= pattern([...new Set([...this.#values].flatMap(spellings))]);
    return text.replace(this.#patterns, '[redacted]');
  }
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const HTML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** The ways a value may come back: as sent, URL- or form-encoded, JSON-escaped, HTML-escaped. */
function spellings(value: string): string[] {
  return [
    value,
    encodeURIComponent(value),
    new URLSearchParams({ v: value }).toString().slice(2),
    JSON.stringify(value).slice(1, -1),
    value.replace(/[&<>"']/g, (c) => HTML[c] ?? c),
  ];
}

/**
 * Longest first, so an encoded form is not half-replaced by a shorter one. A value of
 * one to three characters is taken out only where it stands alone, or every other word
 * of a message would go with it.
 */
function pattern(forms: string[]): RegExp {
  const sorted = forms.sort((a, b) => b.length - a.length);
  const alternatives = sorted.map((form) =>
    form.length >= 4 ? escapeRegExp(form) : `(?<![\\p{L}\\p{N}])${escapeRegExp(form)}(?![\\p{L}\\p{N}])`,
  );
  return new RegExp(alternatives.join('|'), 'gu');
}
