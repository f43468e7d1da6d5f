import type { Readable, Writable } from 'node:stream';

type Paint = (text: string) => string;

/** The few colours kash uses; a ChalkInstance is one. */
export interface Colour {
  red: Paint;
  green: Paint;
  yellow: Paint;
  cyan: Paint;
  dim: Paint;
}

const same: Paint = (text) => text;
export const NO_COLOUR: Colour = { red: same, green: same, yellow: same, cyan: same, dim: same };

/**
 * Terminal facts in one place, after GitHub CLI's iostreams: commands never look at
 * `process` themselves, so tests hand in buffers and flip the terminal flags.
 */
export interface IO {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly stdinIsTTY: boolean;
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  /** Colour for stderr, where everything meant for a person goes. */
  readonly colour: Colour;
}

/**
 * The real streams. stdin is opened only when asked for (the print path never reads it),
 * and chalk is loaded only when there is colour to show.
 */
export async function processIO(env: NodeJS.ProcessEnv): Promise<IO> {
  const stderrIsTTY = process.stderr.isTTY === true;
  const level = stderrColourLevel(env, stderrIsTTY);
  const colour = level === 0 ? NO_COLOUR : new (await import('chalk')).Chalk({ level });
  return {
    get stdin() {
      return process.stdin;
    },
    get stdinIsTTY() {
      return process.stdin.isTTY === true;
    },
    stdout: process.stdout,
    stderr: process.stderr,
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY,
    colour,
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

/** The same streams without colour; getters (the lazy stdin) keep working. */
export function withoutColour(io: IO): IO {
  return Object.create(io, { colour: { value: NO_COLOUR } }) as IO;
}
