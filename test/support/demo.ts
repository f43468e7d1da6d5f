// `npm run demo`: an offline tour of kash against the emulator, in a throw-away config folder.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { accounts, startEmulator } from './emulator.js';

const kash = resolve('bin/kash.js');
const emulator = await startEmulator();
const configDir = mkdtempSync(join(tmpdir(), 'kash-demo-'));
const env = { ...process.env, KASH_BASE_URL: emulator.url, KASH_CONFIG_DIR: configDir, KASH_NO_INPUT: '1' };

function step(
  title: string,
  shown: string,
  command: string,
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<number> {
  // Bold only for a person: a log or a pipe gets the plain text.
  const bold = (text: string) => (process.stdout.isTTY ? `\u001B[1m${text}\u001B[0m` : text);
  process.stdout.write(`\n${bold(`# ${title}`)}\n$ ${shown}\n`);
  return new Promise((done, fail) => {
    const child = spawn(command, args, { env: { ...env, ...extraEnv }, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', fail);
    child.on('exit', (code) => done(code ?? 1));
  });
}

const expect = (what: string, got: number, wanted: number) => {
  if (got !== wanted) throw new Error(`${what}: exit ${got}, expected ${wanted}`);
};

try {
  process.stdout.write(`kash demo: emulator at ${emulator.url}, config in ${configDir}\n`);
  expect(
    'login',
    await step(
      'Log in with a password (here from KASH_PASSWORD, as a CI job would)',
      `KASH_PASSWORD=… kash login --login ${accounts.demo.login}`,
      'node',
      [kash, 'login', '--login', accounts.demo.login],
      {
        KASH_PASSWORD: accounts.demo.password,
      },
    ),
    0,
  );
  expect('whoami', await step('Who am I? (the key is masked)', 'kash whoami', 'node', [kash, 'whoami']), 0);
  expect(
    'env',
    await step(
      'Export the credentials into a shell',
      'eval "$(kash env)"; echo "shop $KASH_SHOPID, key of ${#KASH_APIKEY} characters"',
      'sh',
      ['-c', `eval "$(node '${kash}' env)" && echo "shop $KASH_SHOPID, key of \${#KASH_APIKEY} characters"`],
    ),
    0,
  );
  expect(
    'otp request',
    await step(
      'Or log in with a code sent by email: request it…',
      'kash otp request --email one@kash.click --profile by-code',
      'node',
      [kash, 'otp', 'request', '--email', 'one@kash.click', '--profile', 'by-code'],
    ),
    0,
  );
  const code = emulator.lastCode('one@kash.click') ?? '';
  expect(
    'otp consume',
    await step('…then trade it for the credentials', `kash otp consume --otp ${code} --profile by-code`, 'node', [
      kash,
      'otp',
      'consume',
      '--otp',
      code,
      '--profile',
      'by-code',
    ]),
    0,
  );
  expect('whoami --all', await step('Every saved profile', 'kash whoami --all', 'node', [kash, 'whoami', '--all']), 0);
  expect('logout', await step('Log out of everything', 'kash logout --all', 'node', [kash, 'logout', '--all']), 0);
  expect(
    'whoami after logout',
    await step('Logged out: whoami now exits 5', 'kash whoami', 'node', [kash, 'whoami']),
    5,
  );
  process.stdout.write('\nThe tour is over; nothing outside the throw-away folder was touched.\n');
} catch (error) {
  process.stderr.write(`demo failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
} finally {
  await emulator.close();
  rmSync(configDir, { recursive: true, force: true });
}
