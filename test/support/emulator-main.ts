/**
 * `npm run emulator`: the offline emulator of the service in the foreground, on
 * 127.0.0.1:8787 (`--port N` for another), for trying every flow by hand:
 *
 *   KASH_BASE_URL=http://127.0.0.1:8787 kash login
 *
 * It prints its URL, the accounts and their passwords, the emails and their shops, and
 * each code it "emails". Ctrl-C stops it.
 */
import { parseArgs } from 'node:util';
import { accounts, otpEmails, startEmulator } from './emulator.js';

function parsePort(): number {
  try {
    const { values } = parseArgs({ options: { port: { type: 'string' } } });
    const port = Number(values.port ?? 8787);
    if (Number.isInteger(port) && port >= 0 && port <= 65535) return port;
  } catch {
    // reported below, like a bad port number
  }
  process.stderr.write('usage: npm run emulator [-- --port N]\n');
  process.exit(2);
}

const say = (line = '') => process.stdout.write(`${line}\n`);

startEmulator({
  port: parsePort(),
  onEmail: (mail) =>
    say(`→ code ${mail.code} emailed to ${mail.email}${mail.accountId ? ` (shop ${mail.accountId})` : ''}`),
}).then(
  (emulator) => {
    say(`kash.click emulator at ${emulator.url} — nothing leaves this machine.`);
    say();
    say(`Try it:  KASH_BASE_URL=${emulator.url} npx kash login`);
    say();
    say('Logins and passwords (kash login):');
    for (const account of Object.values(accounts)) {
      say(`  ${account.login.padEnd(18)} ${account.password.padEnd(18)} shop ${account.shopId} (${account.title})`);
    }
    say();
    say('Emails for a code (kash login --otp, kash otp request):');
    for (const { email, shops } of Object.values(otpEmails)) {
      const list = shops.map((shop) => `${shop.accountId} ${shop.title}`).join(', ') || 'no shop';
      say(`  ${email.padEnd(18)} ${list}`);
    }
    say();
    say('The API (kash api) answers getPaymentModes, getSales (formatExport=CSV|PDF|XLS) and webapp (-X POST).');
    say('Codes appear below as they are sent. Ctrl-C stops the emulator.');
    const stop = () => void emulator.close().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  },
  (error: unknown) => {
    process.stderr.write(`emulator: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
