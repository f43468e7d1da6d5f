import type { Readable } from 'node:stream';
import type { Context } from './context.js';
import { usageError } from './errors.js';
import { hasControlChars, quote } from './output/sanitize.js';
import type { Prompter } from './prompt.js';

const MAX_INPUT = 4096;

export interface InputSpec {
  /** What it is, for messages: "login", "password", "email". */
  label: string;
  /** The flag that supplies it, e.g. "--login <login>". */
  flag: string;
  variable: string;
  /** The flag's value, when given. */
  given: string | undefined;
  ask: (prompter: Prompter) => Promise<string>;
}

/** Flag, then variable, then a prompt when a person is there; otherwise a usage error saying how to supply it. */
export async function gather(ctx: Context, spec: InputSpec): Promise<string> {
  const fromEnv = ctx.env[spec.variable];
  const value = spec.given ?? (fromEnv === '' ? undefined : fromEnv);
  if (value !== undefined) return checked(spec.label, value);
  if (!ctx.canPrompt) {
    throw usageError(`missing ${spec.label}: cannot prompt here`, `Pass ${spec.flag} or set ${spec.variable}.`);
  }
  return checked(spec.label, await spec.ask(await ctx.prompter()));
}

export function checked(label: string, value: string, hint?: string): string {
  if (value.trim() === '') throw usageError(`the ${label} is empty`, hint);
  if (value.length > MAX_INPUT) throw usageError(`the ${label} is too long (over ${MAX_INPUT} characters)`);
  if (hasControlChars(value)) throw usageError(`the ${label} holds control characters or line breaks`);
  return value;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function checkEmail(value: string): string {
  const email = checked('email', value).trim();
  if (!EMAIL.test(email)) {
    throw usageError(
      `invalid email ${quote(email)}`,
      'Give the address you sign in with, e.g. --email you@example.com.',
    );
  }
  return email;
}

/**
 * One line from a pipe, its line break stripped; `hint` says how else to give it when the
 * pipe was empty. Bytes that are not UTF-8 are refused: a secret must reach the service
 * exactly as given, not with replacement characters in it.
 */
export async function readLine(stream: Readable, label: string, hint: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    const end = bytes.indexOf(0x0a);
    chunks.push(end === -1 ? bytes : bytes.subarray(0, end));
    size += bytes.length;
    if (end !== -1 || size > MAX_INPUT) break;
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw usageError(`the ${label} on standard input is not valid UTF-8`);
  }
  return checked(label, text.replace(/\r$/, ''), hint);
}
