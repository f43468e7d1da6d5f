/**
 * Fakes for calling kash's commands in-process, after GitHub CLI's test helpers:
 * an IO of in-memory buffers with the terminal flags flipped by hand, a prompter
 * that follows a script and fails on anything else, and strict HTTP stubs (nock).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { run } from '../../src/cli.js';
import type { Context, Overrides } from '../../src/context.js';
import { ExitCode, KashError } from '../../src/errors.js';
import { type Color, type IO, NO_COLOR } from '../../src/io.js';
import { Secrets } from '../../src/output/redact.js';
import { buildProgram, contextFactory } from '../../src/program.js';
import type { Choice, Prompter } from '../../src/prompt.js';
import { type Keyring, NoKeyring } from '../../src/store/keyring.js';
import { STORE_FILE_NAME } from '../../src/store/paths.js';
import type { FileCredentials, PendingCode } from '../../src/store/records.js';
import { CredentialStore } from '../../src/store/store.js';

// ---------------------------------------------------------------------------------------------
// IO

/** A color that shows where it painted: `red('x')` is `<red>x</red>`. */
export const MARKER_COLOR: Color = {
  red: (text) => `<red>${text}</red>`,
  green: (text) => `<green>${text}</green>`,
  yellow: (text) => `<yellow>${text}</yellow>`,
  cyan: (text) => `<cyan>${text}</cyan>`,
  dim: (text) => `<dim>${text}</dim>`,
  bold: (text) => `<bold>${text}</bold>`,
};

export interface FakeIOOptions {
  stdinTTY: boolean;
  stderrTTY: boolean;
  /** Whether stdout is a terminal; not unless said. */
  stdoutTTY?: boolean;
  /** What standard input holds; empty when not given. */
  stdin?: string;
  /** What the IO paints with when the run decides on color (stderr a terminal, FORCE_COLOR…); none unless given. */
  palette?: Color;
}

export interface FakeIO extends IO {
  /** Everything written to stdout so far. */
  readonly out: string;
  /** The same, as the bytes they were. */
  readonly outBytes: Buffer;
  /** Everything written to stderr (its Sink and its stream) so far. */
  readonly err: string;
  /** How many times standard input was opened. */
  readonly stdinReads: number;
}

export function fakeIO(options: FakeIOOptions): FakeIO {
  let out = '';
  const outBytes: Buffer[] = [];
  let err = '';
  let stdinReads = 0;
  let stdin: Readable | undefined;
  const stderrStream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      err += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      done();
    },
  });
  return {
    get stdin() {
      stdinReads++;
      stdin ??= Readable.from(options.stdin === undefined || options.stdin === '' ? [] : [Buffer.from(options.stdin)]);
      return stdin;
    },
    stdout: {
      write: (data) => {
        const bytes = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data);
        outBytes.push(bytes);
        out += bytes.toString('utf8');
      },
    },
    stderr: { write: (text) => void (err += typeof text === 'string' ? text : Buffer.from(text).toString('utf8')) },
    stderrStream,
    stdinIsTTY: options.stdinTTY,
    stdoutIsTTY: options.stdoutTTY ?? false,
    stderrIsTTY: options.stderrTTY,
    color: NO_COLOR,
    palette: async (level) => (level === 0 ? NO_COLOR : (options.palette ?? NO_COLOR)),
    get out() {
      return out;
    },
    get outBytes() {
      return Buffer.concat(outBytes);
    },
    get err() {
      return err;
    },
    get stdinReads() {
      return stdinReads;
    },
  };
}

/** A terminal session: a person can be asked. */
export const interactiveIO = (extra: Partial<FakeIOOptions> = {}) =>
  fakeIO({ stdinTTY: true, stderrTTY: true, ...extra });
/** A script that paints with MARKER_COLOR wherever the run decides on color (FORCE_COLOR, say). */
export const paintedIO = () => scriptIO({ palette: MARKER_COLOR });
/** A script: pipes both ways. */
export const scriptIO = (extra: Partial<FakeIOOptions> = {}) => fakeIO({ stdinTTY: false, stderrTTY: false, ...extra });

/** stderr without the spinner's frames, which only a terminal gets. */
export function withoutSpinner(text: string): string {
  // Frames are `\r<frame> <text>`, and the spinner erases its line when it stops.
  return text.replace(/(?:\r[^\r\n]*)*\r\u001B\[2K/g, '');
}

// ---------------------------------------------------------------------------------------------
// Prompter

export type PromptKind = 'text' | 'secret' | 'choose';

/** One prompt the test expects, in order, and what the "person" answers. */
export interface ExpectedPrompt {
  kind: PromptKind;
  /** Matched against the prompt's message. */
  message: RegExp | string;
  /**
   * text/secret: the typed string. choose: a pattern matched against the choices' names
   * (the first match is picked). An Error is thrown instead of answering.
   */
  answer: string | RegExp | Error;
}

export interface AskedPrompt {
  kind: PromptKind;
  message: string;
  choices?: string[];
}

export interface ScriptedPrompter extends Prompter {
  /** Every prompt asked, in order (including a failing one). */
  readonly asked: AskedPrompt[];
}

/** The prompters of the running test: each must have been asked its whole script when the test ends. */
const scripted: Array<{ unasked(): string | undefined }> = [];

afterEach(() => {
  const problems = scripted.splice(0).flatMap((prompter) => prompter.unasked() ?? []);
  if (problems.length > 0) throw new UnexpectedPrompt(problems.join('; '));
});

export const ask = {
  text: (message: RegExp | string, answer: string | Error): ExpectedPrompt => ({ kind: 'text', message, answer }),
  secret: (message: RegExp | string, answer: string | Error): ExpectedPrompt => ({ kind: 'secret', message, answer }),
  choose: (message: RegExp | string, answer: RegExp | string | Error): ExpectedPrompt => ({
    kind: 'choose',
    message,
    answer,
  }),
};

/** What @inquirer/prompts throws when the person presses Ctrl-C. */
export function ctrlC(): Error {
  const error = new Error('User force closed the prompt with SIGINT');
  error.name = 'ExitPromptError';
  return error;
}

export class UnexpectedPrompt extends Error {
  override name = 'UnexpectedPrompt';
}

const matches = (pattern: RegExp | string, text: string) =>
  typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text);

/** A prompter that follows `script` and fails the test on anything else, also on a scripted prompt never asked. */
export function scriptedPrompter(script: ExpectedPrompt[]): ScriptedPrompter {
  const queue = [...script];
  const asked: AskedPrompt[] = [];
  scripted.push({
    unasked: () =>
      queue.length === 0
        ? undefined
        : `${queue.length} scripted prompt(s) never asked: ${queue.map((p) => `${p.kind} ${String(p.message)}`).join(', ')}`,
  });

  const next = (kind: PromptKind, message: string, choices?: string[]): ExpectedPrompt => {
    asked.push(choices ? { kind, message, choices } : { kind, message });
    const expected = queue.shift();
    if (!expected)
      throw new UnexpectedPrompt(`unexpected ${kind} prompt ${JSON.stringify(message)}: the script is used up`);
    if (expected.kind !== kind || !matches(expected.message, message)) {
      throw new UnexpectedPrompt(
        `expected a ${expected.kind} prompt matching ${String(expected.message)}, got ${kind} ${JSON.stringify(message)}`,
      );
    }
    if (expected.answer instanceof Error) throw expected.answer;
    return expected;
  };

  const typed = (kind: 'text' | 'secret', message: string): string => {
    const { answer } = next(kind, message);
    if (typeof answer !== 'string')
      throw new UnexpectedPrompt(`the script answers the ${kind} prompt ${JSON.stringify(message)} with a pattern`);
    return answer;
  };

  return {
    asked,
    async text(message, validate) {
      const answer = typed('text', message);
      // The real prompt would not let an invalid answer through.
      const verdict = validate?.(answer) ?? true;
      if (verdict !== true)
        throw new UnexpectedPrompt(`the scripted answer ${JSON.stringify(answer)} fails validation: ${verdict}`);
      return answer;
    },
    async secret(message) {
      return typed('secret', message);
    },
    async choose<T>(message: string, choices: Choice<T>[]): Promise<T> {
      const { answer } = next(
        'choose',
        message,
        choices.map((choice) => choice.name),
      );
      const picked = choices.find((choice) => matches(answer as RegExp | string, choice.name));
      if (!picked) throw new UnexpectedPrompt(`no choice of ${JSON.stringify(message)} matches ${String(answer)}`);
      return picked.value;
    },
  };
}

/** Overrides that hand out `prompter` and count how often a command asked for one. */
export function prompterOverrides(prompter: Prompter): Overrides & { readonly requested: number } {
  let requested = 0;
  return {
    prompter: async () => {
      requested++;
      return prompter;
    },
    get requested() {
      return requested;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Running commands

export const BASE_URL = 'https://kash.test';

/** A fresh config folder and the environment that points at it. */
export interface Sandbox {
  dir: string;
  storeFile: string;
  env: NodeJS.ProcessEnv;
  /** The store file as parsed JSON; undefined when there is none. */
  readStore():
    | { profiles: Record<string, { credentials?: Record<string, unknown>; pendingCode?: Record<string, unknown> }> }
    | undefined;
  /** The store file's bytes; undefined when there is none. */
  storeBytes(): string | undefined;
  remove(): void;
}

export function sandbox(): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), 'kash-unit-'));
  const storeFile = join(dir, STORE_FILE_NAME);
  const storeBytes = () => {
    try {
      return readFileSync(storeFile, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  };
  return {
    dir,
    storeFile,
    // Only what the test says: never the developer's or the CI's own variables.
    // KASH_STORAGE=file: a test that wants a keyring says so, and gets one in memory.
    env: { KASH_CONFIG_DIR: dir, KASH_BASE_URL: BASE_URL, KASH_STORAGE: 'file' },
    readStore: () => {
      const bytes = storeBytes();
      return bytes === undefined ? undefined : JSON.parse(bytes);
    },
    storeBytes,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** `kash <args…>` through commander and the one exit point, as the real binary runs it. */
/** A keyring that no test reaches by accident: every call fails the test. */
const noKeyring = (): Keyring => {
  const refuse = async (): Promise<never> => {
    throw new Error('this test reached the keyring without asking for one (pass memoryKeyring() in its overrides)');
  };
  return { set: refuse, get: refuse, remove: refuse, probe: refuse };
};

export function kash(args: string[], io: IO, env: NodeJS.ProcessEnv, overrides: Overrides = {}): Promise<number> {
  return run(['node', 'kash', ...args], io, env, { keyring: noKeyring, ...overrides });
}

const captured = Symbol('context captured');

/**
 * The Context a command would get for `kash [globalArgs…] whoami`, for calling a run
 * function directly. Built by the real program, so global options resolve as they do in use.
 */
export async function contextFor(
  io: IO,
  env: NodeJS.ProcessEnv,
  globalArgs: string[] = [],
  overrides: Overrides = {},
): Promise<Context> {
  let context: Context | undefined;
  const factory = contextFactory(
    io,
    env,
    new Secrets(),
    { keyring: noKeyring, ...overrides },
    {
      shown: () => undefined,
      exitWith: () => undefined,
    },
  );
  const program = buildProgram(io, async (command) => {
    context = await factory(command);
    throw captured;
  });
  try {
    await program.parseAsync(['node', 'kash', ...globalArgs, 'whoami']);
  } catch (error) {
    if (error !== captured) throw error;
  }
  if (!context) throw new Error(`no context was built for ${globalArgs.join(' ')}`);
  return context;
}

// ---------------------------------------------------------------------------------------------
// HTTP

/** Requests nock could not match: a retry, a wrong path, a request the test did not expect. */
const unmatched: string[] = [];
const onNoMatch = (req: { method?: string; path?: string; href?: string; hostname?: string }) => {
  unmatched.push(`${req.method ?? '?'} ${req.href ?? `${req.hostname ?? ''}${req.path ?? ''}`}`);
};

/** Call in beforeAll: no request leaves the process. */
export function strictNetwork(): void {
  nock.disableNetConnect();
  nock.emitter.on('no match', onNoMatch);
}

/** Call in afterEach: every stub used, none missing. Returns what to assert. */
export function networkReport(): { pending: string[]; unmatched: string[]; done: boolean } {
  const report = { pending: nock.pendingMocks(), unmatched: unmatched.splice(0), done: nock.isDone() };
  nock.abortPendingRequests();
  nock.cleanAll();
  nock.disableNetConnect();
  return report;
}

/** Call in afterAll. */
export function releaseNetwork(): void {
  nock.emitter.removeListener('no match', onNoMatch);
  nock.enableNetConnect();
}

export const service = () => nock(BASE_URL);

// ---------------------------------------------------------------------------------------------
// Per-test set-up

/**
 * Registers the hooks every command test wants: strict network, a fresh config folder per
 * test, and a check after each test that every HTTP stub was used and nothing else was asked.
 * Returns a getter for the current test's sandbox.
 */
export function commandTestHooks(): () => Sandbox {
  let current: Sandbox | undefined;
  beforeAll(strictNetwork);
  beforeEach(() => {
    current = sandbox();
  });
  afterEach(() => {
    current?.remove();
    current = undefined;
    const report = networkReport();
    expect(report.unmatched, 'no request went unmatched').toEqual([]);
    expect(report.pending, 'every HTTP stub was used').toEqual([]);
    expect(report.done).toBe(true);
  });
  afterAll(releaseNetwork);
  return () => {
    if (!current) throw new Error('no sandbox outside a test');
    return current;
  };
}

/** Saved credentials for a profile, written through the real store. */
export async function seedProfile(
  dir: string,
  profile: string,
  credentials: Partial<FileCredentials> = {},
): Promise<FileCredentials> {
  const saved: FileCredentials = {
    storage: 'file',
    apiKey: 'KEY-abcdef0123456789-SECRET',
    shopId: '42',
    login: 'owner@example.com',
    email: null,
    method: 'password',
    baseUrl: BASE_URL,
    obtainedAt: '2024-05-06T07:08:09.000Z',
    shopTitle: null,
    ...credentials,
  };
  await new CredentialStore(dir, () => {}).update((data) => {
    data.profiles[profile] = { ...data.profiles[profile], credentials: saved };
  });
  return saved;
}

/** A code request remembered for a profile, as `kash otp request` leaves it, written through the real store. */
export async function seedPendingCode(dir: string, profile: string, email: string): Promise<PendingCode> {
  const pending: PendingCode = {
    email,
    accountId: null,
    shopTitle: null,
    baseUrl: BASE_URL,
    requestedAt: '2024-05-06T07:08:09.000Z',
  };
  await new CredentialStore(dir, () => {}).update((data) => {
    data.profiles[profile] = { ...data.profiles[profile], pendingCode: pending };
  });
  return pending;
}

/** The `error:` lines on stderr (spinner frames removed): the one exit point writes exactly one. */
export const errorLines = (io: FakeIO): string[] =>
  withoutSpinner(io.err)
    .split('\n')
    .filter((line) => line.startsWith('error:'));

// ---------------------------------------------------------------------------------------------
// Keyring

export interface MemoryKeyring extends Keyring {
  /** The items, by account (the profile's keyringId). */
  readonly items: Map<string, string>;
  /** Every call, in order: `set <id>`, `get <id>`, `remove <id>`, `probe`. */
  readonly calls: string[];
}

/**
 * A keyring in memory, so that no unit test reaches a real one. `state`: there and
 * working, not there at all (as with no D-Bus session), or there and failing (locked).
 */
export function memoryKeyring(state: 'working' | 'absent' | 'failing' = 'working'): MemoryKeyring {
  const items = new Map<string, string>();
  const calls: string[] = [];
  const check = () => {
    if (state === 'absent') throw new NoKeyring('no D-Bus session: DBUS_SESSION_BUS_ADDRESS is not set');
    if (state === 'failing') {
      throw new KashError(ExitCode.store, 'the system keyring failed: Secret Service: unlock prompt was dismissed', {
        hint: 'Unlock the keyring.',
      });
    }
  };
  return {
    items,
    calls,
    async set(id, key) {
      calls.push(`set ${id}`);
      check();
      items.set(id, key);
    },
    async get(id) {
      calls.push(`get ${id}`);
      check();
      return items.get(id) ?? null;
    },
    async remove(id) {
      calls.push(`remove ${id}`);
      check();
      return items.delete(id);
    },
    async probe() {
      calls.push('probe');
      if (state === 'absent') return 'no D-Bus session: DBUS_SESSION_BUS_ADDRESS is not set';
      check();
      return undefined;
    },
  };
}
