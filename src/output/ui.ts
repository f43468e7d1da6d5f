import type { IO } from '../io.js';
import type { Secrets } from './redact.js';
import { startSpinner } from './spinner.js';

/**
 * Everything meant for a person goes to stderr, so stdout stays pure data; and every
 * line of it passes the run's secrets filter on its way.
 */
export class Ui {
  readonly #io: IO;
  readonly #verbose: boolean;
  readonly #secrets: Secrets;

  constructor(io: IO, verbose: boolean, secrets: Secrets) {
    this.#io = io;
    this.#verbose = verbose;
    this.#secrets = secrets;
  }

  success(message: string): void {
    this.#line(`${this.#io.color.green('✓')} ${message}`);
  }

  info(message: string): void {
    this.#line(message);
  }

  /** The text `info` writes, for a writer that is not this thread (a watchdog). */
  infoText(message: string): string {
    return this.#text(message);
  }

  warn(message: string): void {
    this.#line(`${this.#io.color.yellow('warning:')} ${message}`);
  }

  /**
   * The same `error:` line and hint that the exit point writes, as text, for the one error
   * that cannot wait for it and is written by a watchdog thread.
   */
  errorText(message: string, hint: string): string {
    return this.#text(`${this.#io.color.red('error:')} ${message}`) + this.#text(this.#io.color.dim(hint));
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
    this.#io.stderr.write(this.#text(text));
  }

  #text(line: string): string {
    return `${this.#secrets.redact(line)}\n`;
  }
}
