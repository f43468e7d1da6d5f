// Secret hygiene, end to end (shared/CLI.md, "Saving, and what prints secrets" and
// "Safety rules": `--verbose` output and error messages never contain a password, OTP or
// API key; only `env` and a `--no-save` login print the API key, on stdout).
//
// runKash (test/support/run-kash.ts) already fails any run, in every suite, whose stderr
// holds a known secret or whose stdout holds a password or code. This suite drives the
// paths where a leak is likeliest, with `--verbose` and with KASH_DEBUG=1, and checks the
// config folder: no file but the store (and a corrupt store set aside) holds a secret, and
// the lock file holds only a pid.
import { mkdirSync, readdirSync, readFileSync, statSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { type KashRun, registerSecret, useE2e } from '../support/e2e.js';
import { accounts, type Fault, otpEmails, type PasswordAccount, shops } from '../support/emulator.js';
import { hygieneProblem, SecretLeakError, secretsIn } from '../support/run-kash.js';
import { passwordCredentials, pendingCode, writeStore } from '../support/store-fixture.js';
import { copyConfigDir } from '../support/store-snapshot.js';

const { demo, shop2, legacy } = accounts;
const ONE = otpEmails.one.email;
const TWO = otpEmails.two.email;
const STORE = 'credentials.json';

vi.setConfig({ testTimeout: 30_000 });

/** The two ways to turn on the debug trace. */
const DEBUG = [
  { label: '--verbose', args: ['--verbose'], env: {} },
  { label: 'KASH_DEBUG=1', args: [], env: { KASH_DEBUG: '1' } },
] as const;

// Wrong values a person might type: secrets too, though the service refuses them.
const WRONG_PASSWORD = 'wrong-Pässword "quoted" & $dollar';
registerSecret(WRONG_PASSWORD, 'a wrong password');
// What the faulty answers carry as an API key.
registerSecret('export EVIL=1', "the keyNewline fault's API key (its second line)");
registerSecret('k'.repeat(32), "the huge fault's API key (any 32 characters of it)");

const e2e = useE2e();
const { kash } = e2e;
/** Every config folder a test used, checked at the end. */
const folders: string[] = [];

function freshDir(): string {
  const dir = e2e.freshDir();
  folders.push(dir);
  return dir;
}

function passwordLogin(
  dir: string,
  account: PasswordAccount,
  debug: (typeof DEBUG)[number],
  extra: string[] = [],
  password = account.password,
  env: Record<string, string> = {},
) {
  return kash(dir, [...debug.args, 'login', '--login', account.login, ...extra], {
    env: { ...debug.env, KASH_PASSWORD: password, ...env },
  });
}

/** The code the emulator emailed last to `email`, registered as a secret. */
function codeFor(email: string): string {
  const code = e2e.emulator.lastCode(email);
  if (code === undefined) throw new Error(`no code was sent to ${email}`);
  registerSecret(code, `the OTP code emailed to ${email}`);
  return code;
}

/** A code of the same shape that is not `code`, registered as a secret. */
function wrongCode(code: string): string {
  const wrong = String((Number(code) + 500_001) % 1_000_000).padStart(6, '0');
  registerSecret(wrong, 'a wrong OTP code');
  return wrong;
}

/** No known secret on stderr; no password or code on stdout. Failures name secrets, never show them. */
function expectClean(run: KashRun, label: string): void {
  expect(secretsIn(run.stderr, 'any'), `${label}: secrets on stderr`).toEqual([]);
  expect(secretsIn(run.stdout, 'stdout'), `${label}: passwords or codes on stdout`).toEqual([]);
}

/** The debug trace is really there: the request line (to the file's emulator, or `url`) and its answer. */
function expectTrace(run: KashRun, label: string, url = e2e.emulator.url): void {
  expect(run.stderr, `${label}: no debug trace`).toContain(`POST ${url}/workers/`);
}

/** Every file under `dir` but the store and corrupt stores set aside, with its text. */
function otherFiles(dir: string): Array<{ name: string; text: string }> {
  const found: Array<{ name: string; text: string }> = [];
  const walk = (current: string, prefix: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const name = `${prefix}${entry.name}`;
      if (entry.isDirectory()) walk(join(current, entry.name), `${name}/`);
      else if (name !== STORE && !name.startsWith(`${STORE}.corrupt-`))
        found.push({ name, text: readFileSync(join(current, entry.name), 'utf8') });
    }
  };
  walk(dir, '');
  return found;
}

function expectFolderClean(dir: string): void {
  let files: Array<{ name: string; text: string }>;
  try {
    statSync(dir);
    files = otherFiles(dir);
  } catch {
    return; // never created: nothing in it
  }
  for (const { name, text } of files) {
    expect(secretsIn(text, 'any'), `${dir}/${name} holds secrets`).toEqual([]);
    if (name === `${STORE}.lock`) expect(text, `${dir}/${name}`).toMatch(/^\d+$/);
  }
}

describe('the hygiene check of runKash itself', () => {
  it('fails a run that prints an API key on stderr, naming the fixture and not showing the key', async () => {
    const dir = freshDir();
    // A valid profile name that happens to be an API key: kash names the profile in its error.
    const leak = kash(dir, ['--profile', demo.apiKey, 'whoami']);
    const error = await leak.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SecretLeakError);
    const message = (error as Error).message;
    expect(message).toContain('accounts.demo.apiKey');
    expect(message).toContain('on stderr');
    expect(message).not.toContain(demo.apiKey);
  });

  it('fails a run that prints a password on stdout, and accepts an API key there', async () => {
    const dir = freshDir();
    const env = { KASH_APIKEY: legacy.password, KASH_SHOPID: '7' };
    const error = await kash(dir, ['env'], { env }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SecretLeakError);
    expect((error as Error).message).toContain('accounts.legacy.password (as is) on stdout');
    expect((error as Error).message).not.toContain(legacy.password);

    const allowed = await kash(dir, ['env'], { env: { KASH_APIKEY: legacy.apiKey, KASH_SHOPID: '7' } });
    expect(allowed.stdout).toContain(legacy.apiKey);
  });

  it('finds a secret in its encoded forms, and a registered code only as a whole number', () => {
    const run = (stderr: string): KashRun => ({ code: 1, signal: null, stdout: '', stderr });
    expect(hygieneProblem(['login'], run(`password=${encodeURIComponent(shop2.password)}`))).toContain(
      'accounts.shop2.password (URL-encoded) on stderr',
    );
    expect(hygieneProblem(['login'], run(`{"password":${JSON.stringify(shop2.password)}}`))).toContain(
      'accounts.shop2.password (JSON-escaped)',
    );
    expect(
      hygieneProblem(['login'], run(`password=${new URLSearchParams({ p: WRONG_PASSWORD }).toString().slice(2)}`)),
    ).toContain('a wrong password (form-encoded)');
    registerSecret('314159', 'a test code');
    expect(hygieneProblem(['x'], run('code 314159 sent'))).toContain('a test code');
    expect(hygieneProblem(['x'], run('pid 23141592'))).toBeUndefined();
    expect(hygieneProblem(['x'], run('nothing to see'))).toBeUndefined();
  });
});

describe.each(DEBUG)('with $label', (debug) => {
  it('a successful password login, saved or printed (--no-save), shows the trace and no secret', async () => {
    const [saved, special, printed] = await Promise.all([
      passwordLogin(freshDir(), demo, debug),
      // The password with quotes, a dollar and a space, by stdin: its encoded forms must not show either.
      kash(freshDir(), [...debug.args, 'login', '--login', shop2.login, '--password-stdin'], {
        env: debug.env,
        input: `${shop2.password}\n`,
      }),
      passwordLogin(freshDir(), legacy, debug, ['--no-save']),
    ]);
    for (const [run, label] of [
      [saved, 'demo'],
      [special, 'shop2 by stdin'],
      [printed, 'legacy --no-save'],
    ] as const) {
      expect(run.code, `${label}: ${run.stderr}`).toBe(0);
      expectTrace(run, label);
      expectClean(run, label);
    }
    // The key is data: on stdout with --no-save, and nowhere else.
    expect(printed.stdout).toContain(legacy.apiKey);
    expect(saved.stdout).toBe('');
  });

  it('a wrong password (one of another account, and a typed one with odd characters) is exit 3 with no secret', async () => {
    const [otherAccounts, typed] = await Promise.all([
      passwordLogin(freshDir(), demo, debug, [], shop2.password),
      passwordLogin(freshDir(), shop2, debug, [], WRONG_PASSWORD),
    ]);
    for (const [run, label] of [
      [otherAccounts, "another account's password"],
      [typed, 'a typed wrong password'],
    ] as const) {
      expect(run.code, `${label}: ${run.stderr}`).toBe(3);
      expectTrace(run, label);
      expectClean(run, label);
    }
  });

  it('an OTP login: the request, a wrong code and the right one (by --otp, KASH_OTP and stdin) print no code and no key', async () => {
    // A request per folder: the first by kash, the others as it leaves them (the request
    // remembered, the code emailed); each code read from the outbox as it arrives.
    const dirs = [freshDir(), freshDir(), freshDir()];
    const request = await kash(dirs[0]!, [...debug.args, 'otp', 'request', '--email', TWO, '--account-id', '102'], {
      env: debug.env,
    });
    expect(request.code, request.stderr).toBe(0);
    expectTrace(request, 'request');
    expectClean(request, 'request');
    const codes = [codeFor(TWO)];
    for (const dir of dirs.slice(1)) {
      writeStore(dir, { default: { pendingCode: pendingCode(TWO, '101', e2e.emulator.url) } });
      e2e.emulator.issueCode(TWO, '101');
      codes.push(codeFor(TWO));
    }
    const codeOf = (dir: string) => codes[dirs.indexOf(dir)]!;
    const code0 = codeOf(dirs[0]!);
    const wrong = wrongCode(code0);
    const wrongRun = await kash(dirs[0]!, [...debug.args, 'otp', 'consume', '--otp', wrong], { env: debug.env });
    expect(wrongRun.code, wrongRun.stderr).toBe(3);
    expectTrace(wrongRun, 'wrong code');
    expectClean(wrongRun, 'wrong code');

    const byFlag = await kash(dirs[0]!, [...debug.args, 'otp', 'consume', '--otp', code0], { env: debug.env });
    const byEnv = await kash(dirs[1]!, [...debug.args, 'otp', 'consume'], {
      env: { ...debug.env, KASH_OTP: codeOf(dirs[1]!) },
    });
    const byStdin = await kash(dirs[2]!, [...debug.args, 'otp', 'consume', '--no-save', '--format', 'json'], {
      env: debug.env,
      input: `${codeOf(dirs[2]!)}\n`,
    });
    for (const [run, label] of [
      [byFlag, '--otp'],
      [byEnv, 'KASH_OTP'],
      [byStdin, 'stdin, --no-save'],
    ] as const) {
      expect(run.code, `${label}: ${run.stderr}`).toBe(0);
      expectTrace(run, label);
      expectClean(run, label);
    }
    expect(Object.keys(JSON.parse(byStdin.stdout) as object)).toEqual(['KASH_APIKEY', 'KASH_SHOPID']);
  });

  it('a code consumed twice, and a wrong code after the right one, print no code', async () => {
    const dir = freshDir();
    const request = await kash(dir, [...debug.args, 'login', '--otp', '--email', ONE], { env: debug.env });
    // Nobody to type the code: exit 2, with the request remembered.
    expect(request.code, request.stderr).toBe(2);
    const code = codeFor(ONE);
    expectClean(request, 'login --otp without a terminal');
    const first = await kash(dir, [...debug.args, 'otp', 'consume', '--email', ONE, '--otp', code], { env: debug.env });
    expect(first.code, first.stderr).toBe(0);
    const again = await kash(dir, [...debug.args, 'otp', 'consume', '--email', ONE, '--otp', code], { env: debug.env });
    expect(again.code, again.stderr).toBe(3);
    for (const [run, label] of [
      [first, 'first use'],
      [again, 'second use'],
    ] as const) {
      expectTrace(run, label);
      expectClean(run, label);
    }
  });
});

const FAULTS: Array<{ fault: Fault; code: number; args?: string[] }> = [
  { fault: 'http500', code: 4 },
  { fault: 'html', code: 4 },
  { fault: 'slow', code: 4, args: ['--timeout', '1'] },
  { fault: 'redirect', code: 4 },
  { fault: 'huge', code: 4 },
  { fault: 'exact1MiB', code: 0 },
  { fault: 'noKey', code: 4 },
  { fault: 'keyNewline', code: 4 },
  { fault: 'drop', code: 4 },
  { fault: 'stallBody', code: 4, args: ['--timeout', '1'] },
];

// Each fault's test has an emulator of its own with that fault on, so they run side by side.
// The code they send is the one the file's emulator emailed; the copies of the template
// say it was requested from the test's emulator (a code is spent only where it was asked
// for), which answers with its fault whatever the code. Each fault meets both switches,
// one per command, in turn: the two are one setting (test/unit/settings.test.ts), which
// the tests above run side by side.
describe.concurrent('each emulator fault', () => {
  /** A folder with a saved login and a pending code for one@: what each fault's runs start from. */
  let template: string;
  let code: string;

  beforeAll(() => {
    template = freshDir();
    writeStore(template, {
      default: {
        credentials: passwordCredentials(shop2, e2e.emulator.url),
        pendingCode: pendingCode(ONE, shops.solo.accountId, e2e.emulator.url, shops.solo.title),
      },
    });
    e2e.emulator.issueCode(ONE, shops.solo.accountId);
    code = codeFor(ONE);
  });

  /** A copy of the template whose saved login and pending code name `baseUrl` as their service. */
  const copy = (baseUrl: string) => {
    const dir = freshDir();
    copyConfigDir(template, dir);
    const file = join(dir, STORE);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain(JSON.stringify(e2e.emulator.url));
    writeFileSync(file, text.replaceAll(JSON.stringify(e2e.emulator.url), JSON.stringify(baseUrl)));
    return dir;
  };

  it.each(FAULTS.map((c, i) => ({ ...c, forLogin: DEBUG[i % 2]!, forConsume: DEBUG[(i + 1) % 2]! })))(
    '$fault: a password login ($forLogin.label) and an OTP consume ($forConsume.label) print no secret',
    async ({ fault, code: exit, args = [], forLogin, forConsume }) => {
      const faulty = await e2e.startEmulator();
      faulty.fault = fault;
      faulty.slowMs = 3_000;
      const service = { KASH_BASE_URL: faulty.url };
      const runs = await Promise.all([
        passwordLogin(copy(faulty.url), demo, forLogin, args, demo.password, service).then((run): [KashRun, string] => [
          run,
          `password login, ${forLogin.label}`,
        ]),
        kash(copy(faulty.url), [...forConsume.args, ...args, 'otp', 'consume', '--otp', code], {
          env: { ...forConsume.env, ...service },
        }).then((run): [KashRun, string] => [run, `otp consume, ${forConsume.label}`]),
      ]);
      for (const [run, label] of runs) {
        expect(run.code, `${fault}, ${label}: ${run.stderr}`).toBe(exit);
        expectTrace(run, `${fault}, ${label}`, faulty.url);
        expectClean(run, `${fault}, ${label}`);
        // No stack trace holds a secret either: with the trace on, one may be printed.
        expect(run.stdout, `${fault}, ${label}`).toBe('');
      }
    },
  );
});

describe('the config folder', () => {
  it('after logins, codes, failures, a corrupt store set aside and a logout, only the store holds secrets; the lock holds only who holds it', async () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // A corrupt store that holds a key: login sets it aside (kept, renamed), and that copy may hold it.
    writeFileSync(join(dir, STORE), `{"version":1,"profiles":{"default":{"credentials":{"apiKey":"${demo.apiKey}"`, {
      mode: 0o600,
    });

    // While logins to several profiles contend for the lock, read the lock whenever it appears.
    const lockTexts: string[] = [];
    const watcher = watch(dir, (_event, name) => {
      if (name !== `${STORE}.lock`) return;
      try {
        lockTexts.push(readFileSync(join(dir, name), 'utf8'));
      } catch {
        // Released before we could read it.
      }
    });
    const pids: number[] = [];
    try {
      for (let batch = 0; batch < 5 && lockTexts.length === 0; batch++) {
        const started = [demo, shop2, legacy, demo, shop2, legacy].map((account, i) =>
          e2e.start(dir, ['--verbose', '--profile', `p${batch}-${i}`, 'login', '--login', account.login], {
            env: { KASH_PASSWORD: account.password },
          }),
        );
        pids.push(...started.map((s) => s.child.pid!));
        for (const run of await Promise.all(started.map((s) => s.result))) {
          expect(run.code, run.stderr).toBe(0);
          expectClean(run, 'a concurrent login');
        }
      }
    } finally {
      watcher.close();
    }
    expect(lockTexts.length, 'the lock file was never seen').toBeGreaterThan(0);
    for (const text of lockTexts) {
      // Who holds it, in terms that hold across PID namespaces, and nothing else.
      const owner = JSON.parse(text) as Record<string, unknown>;
      expect(Object.keys(owner).sort()).toEqual(['boot', 'host', 'pid', 'pidns', 'start', 'token']);
      expect(owner.token).toMatch(/^[0-9a-f]{24}$/);
      expect(pids).toContain(owner.pid);
    }
    const aside = readdirSync(dir).filter((name) => name.startsWith(`${STORE}.corrupt-`));
    expect(aside).toHaveLength(1);

    // Codes, a wrong password, a wrong code, a logout.
    const requested = await kash(dir, ['--profile', 'otp', '--verbose', 'otp', 'request', '--email', ONE]);
    expect(requested.code, requested.stderr).toBe(0);
    const code = codeFor(ONE);
    const steps = [
      await kash(dir, ['--profile', 'otp', 'otp', 'consume', '--otp', wrongCode(code)]),
      await kash(dir, ['--profile', 'otp', 'otp', 'consume', '--otp', code]),
      await kash(dir, ['--profile', 'p0-0', 'login', '--login', demo.login], {
        env: { KASH_PASSWORD: WRONG_PASSWORD },
      }),
      await kash(dir, ['--profile', 'p0-1', 'logout']),
      await kash(dir, ['--profile', 'otp', 'whoami']),
    ];
    expect(steps.map((run) => run.code)).toEqual([3, 0, 3, 0, 0]);

    // Only the store and the set-aside corrupt store remain, and nothing else holds a secret.
    expect(readdirSync(dir).sort()).toEqual([STORE, aside[0]!]);
    expectFolderClean(dir);
    const store = readFileSync(join(dir, STORE), 'utf8');
    expect(secretsIn(store, 'any').map((hit) => hit.label)).not.toContain(`the OTP code emailed to ${ONE}`);
    expect(store).not.toContain(WRONG_PASSWORD);
  });

  it('no folder used by this suite holds a secret outside the store (and corrupt stores set aside)', () => {
    expect(folders.length).toBeGreaterThan(10);
    for (const dir of folders) expectFolderClean(dir);
  });
});
