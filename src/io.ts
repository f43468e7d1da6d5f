import type { Readable, Writable } from 'node:stream';
import { Chalk, type ChalkInstance } from 'chalk';

/**
 * Terminal facts in one place, after GitHub CLI's iostreams: commands never look at
 * `process` themselves, so tests hand in buffers and flip the terminal flags.
 */
export interface IO {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  stdinIsTTY: boolean;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  /** Colour for stderr, where everything meant for a person goes. */
  colour: ChalkInstance;
}

export function processIO(): IO {
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    stdinIsTTY: process.stdin.isTTY === true,
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    colour: new Chalk({ level: stderrColourLevel(process.env, process.stderr.isTTY === true) }),
  };
}

/**
 * chalk's own detection looks at stdout; our colour goes to stderr, so decide here
 * with the same rules (NO_COLOR, FORCE_COLOR, a terminal that is not dumb).
 */
export function stderrColourLevel(env: NodeJS.ProcessEnv, isTTY: boolean): 0 | 1 | 2 | 3 {
  if (env.FORCE_COLOR !== undefined) {
    if (env.FORCE_COLOR === '0' || env.FORCE_COLOR === 'false') return 0;
    const forced = Number.parseInt(env.FORCE_COLOR, 10);
    return forced >= 1 && forced <= 3 ? (forced as 1 | 2 | 3) : 1;
  }
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 0;
  if (!isTTY || env.TERM === 'dumb') return 0;
  return env.COLORTERM === 'truecolor' || env.COLORTERM === '24bit' ? 3 : 2;
}

export function withoutColour(io: IO): IO {
  return { ...io, colour: new Chalk({ level: 0 }) };
}
