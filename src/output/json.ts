import type { IO } from '../io.js';

/** The one JSON document that --json puts on stdout. */
export function writeJson(io: IO, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
