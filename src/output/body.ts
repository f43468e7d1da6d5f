/** How much of a body is looked at to tell text from binary. */
const SNIFF_BYTES = 8192;

/**
 * Binary, for a terminal: a NUL, a control character other than tab, CR and LF (an
 * escape among them), or bytes that are not UTF-8, in the first bytes. A terminal would
 * take such bytes as commands; the service may call anything text/html.
 */
export function binaryReason(bytes: Uint8Array): string | undefined {
  const head = bytes.subarray(0, SNIFF_BYTES);
  for (const byte of head) {
    if (byte === 0) return 'it holds NUL bytes';
    if (byte === 0x1b) return 'it holds escape sequences';
    if ((byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) || byte === 0x7f) {
      return 'it holds control characters';
    }
  }
  try {
    // `stream`: a character cut at the end of the sniffed bytes is not an error.
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: head.length < bytes.length });
  } catch {
    return 'it is not UTF-8 text';
  }
  return undefined;
}

/**
 * JSON laid out for a person, two spaces a level, its tokens untouched: numbers keep
 * every digit (JSON.parse would round 12345678901234567890). Undefined when it is not JSON.
 */
export function prettyJson(text: string): string | undefined {
  try {
    JSON.parse(text);
  } catch {
    return undefined;
  }
  let out = '';
  let depth = 0;
  let inString = false;
  const newline = () => `\n${'  '.repeat(depth)}`;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (inString) {
      out += c;
      if (c === '\\') out += text.charAt(++i);
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      const rest = text.slice(i + 1).trimStart();
      if (rest.startsWith(close)) {
        out += `${c}${close}`;
        i = text.length - rest.length;
      } else {
        depth++;
        out += c + newline();
      }
    } else if (c === '}' || c === ']') {
      depth--;
      out += newline() + c;
    } else if (c === ',') out += `,${newline()}`;
    else if (c === ':') out += ': ';
    else if (!/\s/.test(c)) out += c;
  }
  return `${out}\n`;
}
