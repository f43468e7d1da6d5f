// Drives the built CLI (bin/kash.js) through a real pseudo-terminal, without native
// addons: util-linux `script` allocates the pty, runs the command on it, copies what we
// write on its stdin to the terminal (as if typed) and what the program draws to its
// stdout. `script -e` exits with the child's status.
//
// Always asynchronous: the emulator answers from the test process, so a synchronous
// spawn would deadlock. A suite that uses it declares `requires('script')`.
//
// The session gets the environment of every kash a test runs (test/support/environment.ts),
// plus TERM=xterm and SHELL=/bin/sh.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { type EnvironmentOptions, kashEnvironment, withChanges } from './environment.js';
import { hygieneProblem, KASH_BIN, SecretLeakError } from './run-kash.js';

const KEYS = {
  enter: '\r',
  down: '\u001B[B',
  up: '\u001B[A',
  'ctrl-c': '\u0003',
} as const;

export type Key = keyof typeof KEYS;

export interface Pty {
  /** Waits until the (ANSI-stripped) output after the last match holds `pattern`; returns the match. */
  waitFor(pattern: string | RegExp, timeoutMs?: number): Promise<string>;
  /** Types text into the terminal, as a person would (no line break added). */
  type(text: string): void;
  press(key: Key): void;
  /**
   * Resolves the exit status; kills the session and rejects when it does not end in time,
   * or when the terminal showed a password or code (secret hygiene, as runKash checks it:
   * the terminal shows both streams, so an API key may be there, as on stdout).
   */
  exit(timeoutMs?: number): Promise<number>;
  /** Everything drawn so far, ANSI escapes and carriage returns removed. */
  output(): string;
  /** Everything drawn so far, as the terminal received it. */
  rawOutput(): string;
  /** Ends the session at once (for clean-up after a failure). */
  kill(): void;
}

const DEFAULT_TIMEOUT_MS = 10_000;

// CSI (colours, cursor moves, erase), OSC (titles), and two-character escapes.
const ANSI = /\u001B\[[0-?]*[ -/]*[@-~]|\u001B\][^\u0007\u001B]*(?:\u0007|\u001B\\)|\u001B[@-Z\\-_]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '').replace(/\r/g, '');
}

/** Single-quotes a word for the POSIX shell that `script -c` runs the command with. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs the shell command `command` (`sh -c`) on a fresh pseudo-terminal through `script`:
 * what is written to the child's stdin is typed at the terminal, and its stdout is what
 * the terminal shows. `env` goes on top of the test environment (`undefined` removes).
 */
export function spawnOnTerminal(
  command: string,
  env: Record<string, string | undefined> = {},
  options: EnvironmentOptions = {},
): ChildProcessWithoutNullStreams {
  const childEnv = withChanges({ ...kashEnvironment(options), TERM: 'xterm', SHELL: '/bin/sh' }, env);
  return spawn('script', ['-q', '-f', '-e', '-c', command, '/dev/null'], {
    env: childEnv,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/**
 * Starts `kash <args>` on a fresh pseudo-terminal (stdin, stdout and stderr all the
 * terminal). `env` goes on top of the test environment; a value of `undefined` removes it.
 */
export function start(
  args: string[],
  env: Record<string, string | undefined> = {},
  options: EnvironmentOptions = {},
): Pty {
  // A fixed, roomy size so that prompts never wrap; `script` gives a 0x0 terminal otherwise.
  const command = `stty cols 160 rows 50 2>/dev/null; exec ${[process.execPath, KASH_BIN, ...args].map(shellQuote).join(' ')}`;
  const child = spawnOnTerminal(command, env, options);

  let raw = '';
  let scriptErrors = '';
  let cursor = 0; // in the stripped output: where the next waitFor starts looking
  let ended: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of [...listeners]) listener();
  };

  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    raw += chunk;
    notify();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (scriptErrors += chunk));
  child.stdin.on('error', () => {
    // The session may end before it reads what we typed.
  });
  child.on('error', (error) => {
    spawnError = error;
    notify();
  });
  child.on('close', (code, signal) => {
    ended = { code, signal };
    notify();
  });

  const output = () => stripAnsi(raw);
  const describe = () =>
    `--- terminal output so far ---\n${output()}\n--- end ---${scriptErrors ? `\n--- script stderr ---\n${scriptErrors}` : ''}`;

  /** Resolves when `check` returns a value, re-checking on every output or exit; rejects on timeout. */
  const until = <T>(check: () => T | undefined, what: string, timeoutMs: number): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const attempt = () => {
        let value: T | undefined;
        try {
          value = check();
        } catch (error) {
          finish();
          reject(error as Error);
          return;
        }
        if (value !== undefined) {
          finish();
          resolve(value);
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${describe()}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        listeners.delete(attempt);
      };
      listeners.add(attempt);
      attempt();
    });

  const write = (text: string) => {
    if (ended) throw new Error(`cannot type ${JSON.stringify(text)}: the session has ended\n${describe()}`);
    child.stdin.write(text);
  };

  return {
    waitFor(pattern, timeoutMs = DEFAULT_TIMEOUT_MS) {
      const what = typeof pattern === 'string' ? JSON.stringify(pattern) : String(pattern);
      return until(
        () => {
          if (spawnError) throw spawnError;
          const text = output();
          const rest = text.slice(cursor);
          let index = -1;
          let matched = '';
          if (typeof pattern === 'string') {
            index = rest.indexOf(pattern);
            matched = pattern;
          } else {
            const match = new RegExp(pattern.source, pattern.flags.replace('g', '')).exec(rest);
            if (match) {
              index = match.index;
              matched = match[0];
            }
          }
          if (index !== -1) {
            cursor += index + matched.length;
            return matched;
          }
          if (ended)
            throw new Error(
              `the session ended (status ${ended.code ?? ended.signal}) before ${what} appeared\n${describe()}`,
            );
          return undefined;
        },
        what,
        timeoutMs,
      );
    },
    type: write,
    press: (key) => write(KEYS[key]),
    exit(timeoutMs = DEFAULT_TIMEOUT_MS) {
      return until(
        () => {
          if (spawnError) throw spawnError;
          if (!ended) return undefined;
          if (ended.code === null) throw new Error(`script was killed by ${ended.signal}\n${describe()}`);
          const problem = hygieneProblem(args, { code: ended.code, signal: null, stdout: output(), stderr: '' });
          if (problem !== undefined) throw new SecretLeakError(problem);
          return ended.code;
        },
        'the session to end',
        timeoutMs,
      ).catch((error: unknown) => {
        child.kill('SIGKILL');
        throw error;
      });
    },
    output,
    rawOutput: () => raw,
    kill() {
      if (!ended) child.kill('SIGKILL');
    },
  };
}
