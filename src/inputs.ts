import type { Readable } from 'node:stream';
import { Option } from 'commander';
import type { Context } from './context.js';
import { KashError, usageError } from './errors.js';
import { hasControlOrFormatChars, quote } from './sanitize.js';
import { refuseMangled, variable } from './settings.js';

const MAX_INPUT = 4096;

/**
 * One value a command takes from the person or the script: its flag, its variable, its
 * prompt and its check, declared once, so that help text, variable name and validation
 * cannot drift apart between the commands that take it.
 */
export interface Input {
  /** What it is, in messages: "login", "email", "account ID". */
  label: string;
  /** The commander flags: `--email <email>`, or `--password-stdin` for one read from standard input. */
  flag: string;
  variable?: string;
  /** The help text; `(env: …)` is added. */
  description: string;
  /** `flag`: the flag says "read it from standard input"; `piped`: read there when stdin is a pipe and nothing else gave it. */
  stdin?: 'flag' | 'piped';
  prompt?: { kind: 'text' | 'secret'; message: string };
  /** The value as the service wants it, or a usage error saying what is wrong with it. */
  check(value: string): string;
}

/** Commander's parsed options of the command at hand. */
export type Given = Record<string, unknown>;

const optionFor = (input: Input, description = input.description) =>
  new Option(input.flag, input.variable ? `${description} (env: ${input.variable})` : description);

/** The commander option for an input, with its help text; `description` when a command says it its own way. */
export const inputOption = (input: Input, description?: string): Option => optionFor(input, description);

const attribute = (input: Input) => optionFor(input).attributeName();

/** Where an input was given: its flag, its variable, or neither (a prompt may then ask for it). */
export function suppliedBy(ctx: Context, input: Input, given: Given): 'flag' | 'variable' | undefined {
  const value = given[attribute(input)];
  if (value !== undefined && value !== false) return 'flag';
  if (input.variable !== undefined && variable(ctx.env, input.variable) !== undefined) return 'variable';
  return undefined;
}

/** The flag or the variable, checked; undefined when neither gives it. Never prompts. */
export async function optionalInput(ctx: Context, input: Input, given: Given): Promise<string | undefined> {
  const flag = given[attribute(input)];
  if (input.stdin === 'flag' && flag === true) return input.check(await readSecretLine(ctx, input));
  if (typeof flag === 'string') return input.check(refuseMangled(flag, flagName(input), input.label));
  const fromEnv = input.variable === undefined ? undefined : variable(ctx.env, input.variable);
  if (fromEnv !== undefined && input.variable) return input.check(refuseMangled(fromEnv, input.variable, input.label));
  if (input.stdin === 'piped' && !ctx.io.stdinIsTTY)
    return input.check(await readLine(ctx.io.stdin, input.label, howToGive(input)));
  return undefined;
}

/**
 * Flag, then variable (then a pipe, for an input read there), then a prompt when a person
 * is there; otherwise a usage error naming the flag and the variable. `message` replaces
 * the prompt's own when the command knows more (the email a code was sent to).
 */
export async function gather(ctx: Context, input: Input, given: Given, message?: string): Promise<string> {
  const value = await optionalInput(ctx, input, given);
  if (value !== undefined) return value;
  if (input.prompt === undefined || !ctx.canPrompt) {
    throw usageError(`missing ${input.label}: cannot prompt here (${ctx.cannotPromptBecause})`, `${howToGive(input)}.`);
  }
  const prompter = await ctx.prompter();
  const shown = message ?? input.prompt.message;
  const typed =
    input.prompt.kind === 'secret' ? await prompter.secret(shown) : await prompter.text(shown, promptCheck(input));
  return input.check(typed);
}

/** The check, as a prompt runs it: a wrong value is said at the prompt and asked again. */
export function promptCheck(input: Input): (value: string) => string | true {
  return (value) => {
    try {
      input.check(value);
      return true;
    } catch (error) {
      if (error instanceof KashError) return error.message;
      throw error;
    }
  };
}

const flagName = (input: Input) => input.flag.split(' ')[0] ?? input.flag;

function howToGive(input: Input): string {
  const ways = [input.stdin === 'flag' ? `pipe it to ${flagName(input)}` : `pass ${input.flag}`];
  if (input.variable) ways.push(`set ${input.variable}`);
  if (input.stdin === 'piped') ways.push('pipe it on standard input');
  const text = ways.length > 2 ? `${ways.slice(0, -1).join(', ')}, or ${ways.at(-1)}` : ways.join(' or ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Not empty, not huge, no control characters: what every input must be before it is sent or saved. */
export function validInput(label: string, value: string, hint?: string): string {
  if (value.trim() === '') throw usageError(`the ${label} is empty`, hint);
  if (value.length > MAX_INPUT) throw usageError(`the ${label} is too long (over ${MAX_INPUT} characters)`);
  if (hasControlOrFormatChars(value)) {
    throw usageError(`the ${label} holds control characters, line breaks or invisible format characters`);
  }
  return value;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function checkEmail(value: string): string {
  const email = validInput('email', value).trim();
  if (!EMAIL.test(email)) {
    throw usageError(
      `invalid email ${quote(email)}`,
      'Give the address you sign in with, e.g. --email you@example.com.',
    );
  }
  return email;
}

/** People paste codes as "123 456" or "123-456"; the service wants the bare code. */
function checkCode(value: string): string {
  const code = validInput('code', value).replace(/[\s-]/g, '');
  if (!/^[A-Za-z0-9]{1,64}$/.test(code)) {
    throw usageError(
      'the code holds characters other than letters and digits',
      'Type the code exactly as the email shows it.',
    );
  }
  return code;
}

export const LOGIN: Input = {
  label: 'login',
  flag: '--login <login>',
  variable: 'KASH_LOGIN',
  description: 'your kash.click login',
  prompt: { kind: 'text', message: 'Login (email or user name):' },
  // As an email: blanks around it are a slip of the fingers or of a script, never part of the login.
  check: (value) => validInput('login', value).trim(),
};

export const PASSWORD: Input = {
  label: 'password',
  flag: '--password-stdin',
  variable: 'KASH_PASSWORD',
  description: 'read the password from standard input',
  stdin: 'flag',
  prompt: { kind: 'secret', message: 'Password:' },
  // Taken as typed: unlike a login, a password may begin or end with a blank.
  check: (value) => validInput('password', value),
};

export const EMAIL_INPUT: Input = {
  label: 'email',
  flag: '--email <email>',
  variable: 'KASH_EMAIL',
  description: 'the account email',
  prompt: { kind: 'text', message: 'Email of your kash.click account:' },
  check: checkEmail,
};

export const ACCOUNT_ID: Input = {
  label: 'account ID',
  flag: '--account-id <id>',
  variable: 'KASH_ACCOUNT_ID',
  description: 'which shop, when the email has several',
  check: (value) => validInput('account ID', value),
};

export const CODE: Input = {
  label: 'code',
  flag: '--otp <code>',
  variable: 'KASH_OTP',
  description: 'the code from the email; otherwise standard input when it is not a terminal, or a prompt',
  stdin: 'piped',
  prompt: { kind: 'text', message: 'Code from the email:' },
  check: checkCode,
};

/** A key or shop ID checked as the service's own answers are, the flag it came with named. */
function checkCopied(label: string, flag: string) {
  return (value: string) => {
    const where = `(${flag})`;
    if (value.trim() === '') throw usageError(`the ${label} ${where} is empty`);
    if (value.length > MAX_INPUT) throw usageError(`the ${label} ${where} is too long (over ${MAX_INPUT} characters)`);
    if (hasControlOrFormatChars(value)) {
      throw usageError(
        `the ${label} ${where} holds control characters, line breaks or invisible format characters`,
        'Copy it again from the back office: Configuration → Webservices.',
      );
    }
    return value.trim();
  };
}

export const SHOP_ID: Input = {
  label: 'shop ID',
  flag: '--shop-id <id>',
  description: 'with --api-key-stdin: the shop ID shown beside the key',
  prompt: { kind: 'text', message: 'Shop ID (shown in Configuration → Webservices):' },
  check: checkCopied('shop ID', '--shop-id'),
};

export const API_KEY: Input = {
  label: 'API key',
  flag: '--api-key-stdin',
  description: 'read an API key copied from the back office (Configuration → Webservices) from standard input',
  stdin: 'flag',
  prompt: { kind: 'secret', message: 'API key (Configuration → Webservices):' },
  check: checkCopied('API key', '--api-key-stdin'),
};

const STORAGES = ['auto', 'keyring', 'file'] as const;
export type StorageChoice = (typeof STORAGES)[number];

export const STORAGE: Input = {
  label: 'storage',
  flag: '--storage <where>',
  variable: 'KASH_STORAGE',
  description: 'where the API key is kept: auto (the system keyring when one answers), keyring, or file',
  check: (value) => {
    const where = STORAGES.find((known) => known === value.trim().toLowerCase());
    if (where === undefined) throw usageError(`--storage must be one of ${STORAGES.join(', ')}; got ${quote(value)}`);
    return where;
  },
};

/**
 * One line from standard input, its line break stripped. Bytes that are not UTF-8 are
 * refused: a secret must reach the service exactly as given, not with replacement
 * characters in it.
 */
export async function readLine(stream: Readable, label: string, howElse: string): Promise<string> {
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
  const line = text.replace(/\r$/, '');
  // The rest of the checks are the input's own, the same wherever the value came from.
  if (line.trim() === '') throw usageError(`the ${label} on standard input is empty`, `${howElse}.`);
  return line;
}

/**
 * A flag that reads from standard input, given while standard input is a terminal, would
 * wait unseen: refused before anything else is asked.
 */
export function refuseTerminalStdin(ctx: Context, given: Given, ...inputs: Input[]): void {
  for (const input of inputs) {
    if (input.stdin !== 'flag' || given[attribute(input)] !== true || !ctx.io.stdinIsTTY) continue;
    throw usageError(
      `${flagName(input)} reads the ${input.label} from a pipe, but standard input is a terminal`,
      `Pipe it in, e.g. printf '%s\\n' "$SECRET" | kash login … ${flagName(input)}, or drop the flag to be asked.`,
    );
  }
}

function readSecretLine(ctx: Context, input: Input): Promise<string> {
  refuseTerminalStdin(ctx, { [attribute(input)]: true }, input);
  return readLine(
    ctx.io.stdin,
    input.label,
    `With ${flagName(input)}, pipe the ${input.label} as one line on standard input`,
  );
}
