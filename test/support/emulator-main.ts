/**
 * Runs the service emulator on its own: `node build/dev/emulator-main.js [--port N]`.
 * Stdout carries only the base URL, one line, so a script can read it; the codes it
 * "emails" go to stderr, so a person can log in with one.
 */
import { parseArgs } from 'node:util';
import { startEmulator } from './emulator.js';

function parsePort(): number {
  try {
    const { values } = parseArgs({ options: { port: { type: 'string' } } });
    const port = Number(values.port ?? 0);
    if (Number.isInteger(port) && port >= 0 && port <= 65535) return port;
  } catch {
    // reported below, like a bad port number
  }
  process.stderr.write('usage: emulator-main [--port N]\n');
  process.exit(2);
}

startEmulator({
  port: parsePort(),
  onEmail: (mail) => process.stderr.write(`emulator: code ${mail.code} sent to ${mail.email}\n`),
}).then(
  (emulator) => {
    process.stdout.write(`${emulator.url}\n`);
    const stop = () => void emulator.close().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  },
  (error: unknown) => {
    process.stderr.write(`emulator: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
