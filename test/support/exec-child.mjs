// The command that test/e2e/exec.test.ts runs under `kash exec`, so that the test can
// see from the inside what the command was given. Usage: node exec-child.mjs <mode> [args]
//
//   env              prints {"env": process.env, "argv": [args after the mode]} as JSON on stdout
//   echo             copies stdin to stdout as is, and to stderr reversed, byte for byte
//   touch <file>     creates <file> (a marker that the command ran)
//   trap <file>      records each SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 or SIGWINCH it
//                    gets as a line of <file>, after a first line "ready" written once the handlers
//                    are in place (and "ready" on stdout too; "<its pid> <its parent's pid>" in
//                    <file>.pid: kash is the parent, or, where kash replaced itself, the pid); 500 ms
//                    after the first signal (time for a second one to arrive, which would be
//                    recorded too) it exits 7
//   wait <file>      writes "ready" to <file>, then waits with no handler, so a signal kills it
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';

const [mode, ...rest] = process.argv.slice(2);
// Never outlive a test that went wrong.
const safety = setTimeout(() => process.exit(99), 8_000);

switch (mode) {
  case 'env':
    clearTimeout(safety);
    process.stdout.write(JSON.stringify({ env: process.env, argv: rest }));
    break;
  case 'echo': {
    clearTimeout(safety);
    const input = readFileSync(0);
    writeFileSync(1, input);
    writeFileSync(2, Buffer.from(input).reverse());
    break;
  }
  case 'touch':
    clearTimeout(safety);
    writeFileSync(rest[0], 'ran\n');
    break;
  case 'trap': {
    const file = rest[0];
    let first = true;
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH']) {
      process.on(signal, () => {
        appendFileSync(file, `${signal}\n`);
        if (first) {
          first = false;
          setTimeout(() => process.exit(7), 500);
        }
      });
    }
    writeFileSync(`${file}.pid`, `${process.pid} ${process.ppid}`);
    appendFileSync(file, 'ready\n');
    process.stdout.write('ready\n');
    break;
  }
  case 'wait':
    writeFileSync(rest[0], 'ready\n');
    break;
  default:
    process.stderr.write(`exec-child: unknown mode ${String(mode)}\n`);
    process.exit(98);
}
