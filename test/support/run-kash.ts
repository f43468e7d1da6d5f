// Runs the built CLI (bin/kash.js, the bundle) as a real process. Always async: the
// emulator answers from this same process, so a synchronous spawn would deadlock.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const KASH_BIN = resolve(import.meta.dirname, '../../bin/kash.js');

export interface KashRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface KashOptions {
  /** Variables on top of a clean environment (no KASH_*, CI or colour variables from outside). */
  env?: Record<string, string | undefined>;
  /** Written to stdin, then closed; stdin is closed at once when absent. */
  input?: string;
  timeoutMs?: number;
  /** Options for node itself, before the script (e.g. --require). */
  nodeArgs?: string[];
}

/** A fresh config folder for one test. */
export function tempConfigDir(): string {
  return mkdtempSync(join(tmpdir(), 'kash-test-'));
}

function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || /^(KASH_|CI$|NO_COLOR$|FORCE_COLOR$|HTTPS?_PROXY$|NO_PROXY$)/i.test(name)) continue;
    env[name] = value;
  }
  return env;
}

export function runKash(args: string[], options: KashOptions = {}): Promise<KashRun> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), KASH_BIN, ...args], {
      env: { ...cleanEnv(), ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
    child.on('error', fail);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, stderr });
    });
    child.stdin.on('error', () => {
      // The CLI may exit without reading its input; that is its right.
    });
    child.stdin.end(options.input ?? '');
  });
}
