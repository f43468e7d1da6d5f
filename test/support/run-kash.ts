// Runs the built CLI (bin/kash.js, the bundle) as a real process. Always async: the
// emulator answers from this same process, so a synchronous spawn would deadlock.
//
// Every run is also checked for secret hygiene (shared/CLI.md, "Saving, and what prints
// secrets" and "Safety rules"): its stderr must hold none of the known secrets (every
// password and API key of the emulator's fixtures, plus whatever a test registered with
// `registerSecret`), and its stdout no password or code: only stdout may carry an API key
// (`env`, a `--no-save` login). A run that leaks makes its promise reject, so the test
// awaiting it fails with a message that names the secret by its fixture path and never
// holds the secret itself.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { accounts, shops } from './emulator.js';
import { kashEnvironment, tempDir } from './environment.js';

/** bin/kash.js, or KASH_TEST_BIN: a copy of the built package elsewhere (one that a concurrent `npm run build` cannot remove mid-run). */
export const KASH_BIN = resolve(process.env.KASH_TEST_BIN || resolve(import.meta.dirname, '../../bin/kash.js'));

export interface KashRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface KashOptions {
  /**
   * Variables on top of the test environment (test/support/environment.ts: nothing of
   * kash, CI, colour or proxies from outside, and no way to the developer's keychain or
   * caches); a value of `undefined` removes one.
   */
  env?: Record<string, string | undefined>;
  /** Let this run reach the session's real keyring (see environment.ts). */
  realKeyring?: boolean;
  /** Written to stdin, then closed; stdin is closed at once when absent. */
  input?: string;
  timeoutMs?: number;
  /** Options for node itself, before the script (e.g. --require). */
  nodeArgs?: string[];
  /**
   * A process group of its own, as a shell gives a job: what a terminal's Ctrl-C reaches
   * is then `process.kill(-child.pid, signal)`, kash and whatever it started in its group.
   */
  ownGroup?: boolean;
}

/** A fresh, empty folder (0700) for one test, inside this test file's sandbox, removed with it. */
export function tempConfigDir(): string {
  return tempDir('config-');
}

// ---------------------------------------------------------------------------------------
// The registry of secrets

export interface SecretOptions {
  /**
   * Whether stdout may carry it. API keys may be there (`env`, `--no-save`); passwords and
   * codes never. Default: false (only a password or code would be registered by a test).
   */
  stdoutAllowed?: boolean;
}

interface Secret {
  /** How failures name it: a fixture path such as `accounts.demo.password`, never the value. */
  label: string;
  /** The value and the forms it may take once encoded for a request, a URL or JSON. */
  forms: Array<{ how: string; text: string }>;
  stdoutAllowed: boolean;
}

const registry: Secret[] = [];

function formsOf(value: string): Secret['forms'] {
  const candidates: Array<{ how: string; text: string }> = [
    { how: 'as is', text: value },
    { how: 'URL-encoded', text: encodeURIComponent(value) },
    { how: 'form-encoded', text: new URLSearchParams({ v: value }).toString().slice(2) },
    { how: 'JSON-escaped', text: JSON.stringify(value).slice(1, -1) },
  ];
  const seen = new Set<string>();
  return candidates.filter(({ text }) => text.length > 0 && !seen.has(text) && seen.add(text));
}

/**
 * Adds a value that no run of kash may print on stderr (nor, unless `stdoutAllowed`, on
 * stdout): an OTP code read from the emulator's outbox, a wrong password a test types…
 * `label` names it in failure messages, which never show the value.
 */
export function registerSecret(
  value: string,
  label = `registered secret #${registry.length + 1}`,
  options: SecretOptions = {},
): void {
  if (value === '') throw new Error(`registerSecret(${label}): an empty value would match everything`);
  if (registry.some((secret) => secret.label === label && secret.forms[0]!.text === value)) return;
  registry.push({ label, forms: formsOf(value), stdoutAllowed: options.stdoutAllowed ?? false });
}

for (const [name, account] of Object.entries(accounts)) {
  registerSecret(account.password, `accounts.${name}.password`);
  registerSecret(account.apiKey, `accounts.${name}.apiKey`, { stdoutAllowed: true });
}
for (const [name, shop] of Object.entries(shops)) {
  registerSecret(shop.apiKey, `shops.${name}.apiKey`, { stdoutAllowed: true });
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A code of digits only is matched as a whole number, so that it is not found inside a longer one (a pid, a port). */
function pattern(text: string): RegExp {
  return /^\d+$/.test(text) ? new RegExp(`(?<!\\d)${text}(?!\\d)`) : new RegExp(escapeRegExp(text));
}

export interface SecretHit {
  label: string;
  how: string;
}

/**
 * The registered secrets found in `text`. With `stream: 'stdout'`, API keys (allowed on
 * stdout) are not looked for; with 'any' (the default), every secret is.
 */
export function secretsIn(text: string, stream: 'stderr' | 'stdout' | 'any' = 'any'): SecretHit[] {
  const hits: SecretHit[] = [];
  for (const secret of registry) {
    if (stream === 'stdout' && secret.stdoutAllowed) continue;
    const form = secret.forms.find(({ text: t }) => pattern(t).test(text));
    if (form) hits.push({ label: secret.label, how: form.how });
  }
  return hits;
}

/** `text` with every registered secret replaced by its label, so that it can be shown. */
export function redactSecrets(text: string): string {
  let result = text;
  for (const secret of registry) {
    // Longest forms first, so that an encoded form is not half-replaced by a shorter one.
    for (const { text: form } of [...secret.forms].sort((a, b) => b.text.length - a.text.length)) {
      result = result.replace(new RegExp(pattern(form).source, 'g'), `<${secret.label}>`);
    }
  }
  return result;
}

/** Why a finished run breaks secret hygiene, or undefined when it does not. */
export function hygieneProblem(args: string[], run: KashRun): string | undefined {
  const onStderr = secretsIn(run.stderr, 'stderr');
  const onStdout = secretsIn(run.stdout, 'stdout');
  if (onStderr.length === 0 && onStdout.length === 0) return undefined;
  const where = [
    ...onStderr.map((hit) => `${hit.label} (${hit.how}) on stderr`),
    ...onStdout.map((hit) => `${hit.label} (${hit.how}) on stdout, where only an API key may appear`),
  ];
  const status = run.signal ?? `exit ${String(run.code)}`;
  return [
    `secret leak: \`kash ${redactSecrets(args.join(' '))}\` (${status}) printed ${where.join(', and ')}.`,
    `stderr, secrets replaced by their names:\n${redactSecrets(run.stderr)}`,
    ...(onStdout.length > 0 ? [`stdout, secrets replaced by their names:\n${redactSecrets(run.stdout)}`] : []),
  ].join('\n');
}

export class SecretLeakError extends Error {
  override name = 'SecretLeakError';
}

// ---------------------------------------------------------------------------------------
// Running kash

export interface StartedKash {
  child: ChildProcessWithoutNullStreams;
  /** When the process was spawned (Date.now()). */
  startedAt: number;
  /** Settles when the process has closed: rejects on a secret leak, as runKash does. */
  result: Promise<KashRun>;
}

/**
 * Starts kash and returns at once, with the child (to kill it) and its result. stdin gets
 * `options.input` and is closed.
 */
export function startKash(args: string[], options: KashOptions = {}): StartedKash {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), KASH_BIN, ...args], {
    env: { ...kashEnvironment({ realKeyring: options.realKeyring }), ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: options.ownGroup,
  });
  const startedAt = Date.now();
  const result = withHygiene(args, collect(child, options.timeoutMs));
  // The CLI may exit without reading its input; that is its right.
  child.stdin.on('error', () => undefined);
  child.stdin.end(options.input ?? '');
  return { child, startedAt, result };
}

/** What a child prints and how it ends; it is killed if it outlives `timeoutMs`. */
export function collect(child: ChildProcessWithoutNullStreams, timeoutMs = 20_000): Promise<KashRun> {
  return new Promise((done, fail) => {
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', fail);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, stderr });
    });
  });
}

/** The run, or a SecretLeakError when it printed a secret where none may go. */
export async function withHygiene(args: string[], running: Promise<KashRun>): Promise<KashRun> {
  const run = await running;
  const problem = hygieneProblem(args, run);
  if (problem !== undefined) throw new SecretLeakError(problem);
  return run;
}

export function runKash(args: string[], options: KashOptions = {}): Promise<KashRun> {
  return startKash(args, options).result;
}
