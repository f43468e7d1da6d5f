import { fstatSync, statSync, writeSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { ExitCode, KashError } from './errors.js';

type Paint = (text: string) => string;

/** The few colors kash uses; a ChalkInstance is one. */
export interface Color {
  red: Paint;
  green: Paint;
  yellow: Paint;
  cyan: Paint;
  dim: Paint;
  bold: Paint;
}

const same: Paint = (text) => text;
export const NO_COLOR: Color = { red: same, green: same, yellow: same, cyan: same, dim: same, bold: same };

/** 0 for none, then chalk's levels: 16 colors, 256, true color. */
export type ColorLevel = 0 | 1 | 2 | 3;

/** Where kash's output goes: written whole, at once; text as UTF-8, bytes as they are. */
export interface Sink {
  write(data: string | Uint8Array): void;
}

/**
 * Terminal facts in one place, after GitHub CLI's iostreams: commands never look at
 * `process` themselves, so tests hand in buffers and flip the terminal flags.
 */
export interface IO {
  readonly stdin: Readable;
  readonly stdout: Sink;
  readonly stderr: Sink;
  /** The stderr stream itself, for prompts that draw on it. */
  readonly stderrStream: Writable;
  readonly stdinIsTTY: boolean;
  /** Asked only by what writes differently to a person (a body kash would not show raw). */
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  /** Color for stderr, where everything meant for a person goes; none until `withColor`. */
  readonly color: Color;
  /** How this IO paints at a level: chalk for the real streams, loaded only then. */
  palette(level: ColorLevel): Promise<Color>;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes straight to a file descriptor. Node's process.stdout and process.stderr load
 * the stream machinery (and for a pipe, the network stack) on first use: a few ms that
 * `eval "$(kash env)"` would pay in every shell start-up.
 */
function fdSink(fd: number, failed: (code: string) => void): Sink {
  return {
    write(data) {
      let rest =
        typeof data === 'string' ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      while (rest.length > 0) {
        try {
          rest = rest.subarray(writeSync(fd, rest));
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
          // The reader left (`kash env | head -1`): nothing more to say to it.
          if (code === 'EPIPE') return;
          if (code !== 'EAGAIN') return failed(code);
          Atomics.wait(sleeper, 0, 0, 1);
        }
      }
    },
  };
}

/** The result did not reach its reader (a full disk, /dev/full): one clear line, exit 1. */
const stdoutFailed = (code: string) => {
  throw new KashError(ExitCode.internal, `could not write to standard output (${code})`, {
    hint: 'Check where the output goes: the disk may be full, or the file not writable.',
  });
};

let devNull: number | undefined;

/**
 * Whether a descriptor is a terminal, without opening Node's stdio streams. Asking tty
 * loads the network stack, so first rule out what cannot be one: anything but a
 * character device, and /dev/null (where CI and cron put the streams they do not want).
 */
function isTerminal(fd: number): boolean {
  try {
    if (process.platform !== 'win32') {
      const stat = fstatSync(fd);
      devNull ??= statSync('/dev/null').rdev;
      if (!stat.isCharacterDevice() || stat.rdev === devNull) return false;
    }
    return process.getBuiltinModule('node:tty').isatty(fd);
  } catch {
    return false;
  }
}

/** The real streams. stdin is opened only when asked for: the print path never reads it. */
export function processIO(): IO {
  return {
    get stdin() {
      return process.stdin;
    },
    get stdinIsTTY() {
      return isTerminal(0);
    },
    get stdoutIsTTY() {
      return isTerminal(1);
    },
    stdout: fdSink(1, stdoutFailed),
    // Nowhere left to say that stderr failed.
    stderr: fdSink(2, () => undefined),
    get stderrStream() {
      return process.stderr;
    },
    stderrIsTTY: isTerminal(2),
    color: NO_COLOR,
    palette: async (level) => (level === 0 ? NO_COLOR : new (await import('chalk')).Chalk({ level })),
  };
}

/**
 * How much color stderr gets, decided once per run: --no-color first, then NO_COLOR and
 * FORCE_COLOR as chalk reads them, then whether stderr is a terminal that is not dumb.
 * (chalk's own detection looks at stdout, and kash's colors go to stderr.)
 */
export function colorLevel(noColorFlag: boolean, env: NodeJS.ProcessEnv, stderrIsTTY: boolean): ColorLevel {
  if (noColorFlag) return 0;
  if (env.FORCE_COLOR !== undefined) {
    if (env.FORCE_COLOR === '0' || env.FORCE_COLOR === 'false') return 0;
    const forced = Number.parseInt(env.FORCE_COLOR, 10);
    return forced >= 1 && forced <= 3 ? (forced as ColorLevel) : 1;
  }
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 0;
  if (!stderrIsTTY || env.TERM === 'dumb') return 0;
  return env.COLORTERM === 'truecolor' || env.COLORTERM === '24bit' ? 3 : 2;
}

/** The same streams with that much color. */
export async function withColor(io: IO, level: ColorLevel): Promise<IO> {
  const color = await io.palette(level);
  // A prototype link, not a copy, so that the lazy getters (stdin) stay lazy.
  return Object.create(io, { color: { value: color } }) as IO;
}
