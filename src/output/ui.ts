import type { IO } from '../io.js';
import { startSpinner } from './spinner.js';

/** Everything meant for a person goes to stderr, so stdout stays pure data. */
export class Ui {
  readonly #io: IO;
  readonly #verbose: boolean;

  constructor(io: IO, verbose: boolean) {
    this.#io = io;
    this.#verbose = verbose;
  }

  success(message: string): void {
    this.#line(`${this.#io.color.green('✓')} ${message}`);
  }

  info(message: string): void {
    this.#line(message);
  }

  warn(message: string): void {
    this.#line(`${this.#io.color.yellow('warning:')} ${message}`);
  }

  hint(message: string): void {
    this.#line(this.#io.color.dim(message));
  }

  debug(message: string): void {
    if (this.#verbose) this.#line(this.#io.color.dim(`[kash] ${message}`));
  }

  /** A spinner only where a person watches; elsewhere (CI logs) it would be noise. */
  async spin<T>(text: string, work: () => Promise<T>): Promise<T> {
    if (!this.#io.stderrIsTTY || this.#verbose) return work();
    const stop = startSpinner(this.#io.stderr, text, this.#io.color);
    try {
      return await work();
    } finally {
      stop();
    }
  }

  #line(text: string): void {
    this.#io.stderr.write(`${text}\n`);
  }
}
