import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENDPOINTS } from '../../src/api/client.js';
import { VERSION } from '../../src/context.js';
import { ExitCode, KashError } from '../../src/errors.js';
import { exitStatus } from '../../src/exit.js';
import {
  ask,
  commandTestHooks,
  errorLines,
  interactiveIO,
  kash,
  paintedIO,
  prompterOverrides,
  type Sandbox,
  scriptedPrompter,
  scriptIO,
  seedProfile,
  service,
} from '../support/fakes.js';

const sandbox = commandTestHooks();
/** What makes the run paint stderr when it is not a terminal. */
const FORCED = { FORCE_COLOR: '1' };

const LOGIN = 'owner@example.com';
const PASSWORD = 'correct horse';
const CREDENTIALS = {
  success: true,
  result: 'Here are your credentials',
  APIKEY: 'KEY-f3a9c1e07b5d42a8-SECRET',
  SHOPID: '42',
};
const STACK_LINE = /^\s+at .+/m;
const MARKERS = /<\/?(red|green|yellow|cyan|dim|bold)>/;

describe('exit codes: KashError → status, one error line, the hint', () => {
  const codes = Object.entries(ExitCode).filter(([, code]) => code !== ExitCode.ok);
  for (const [name, code] of codes) {
    it(`${name} → ${code}`, () => {
      const io = scriptIO();
      expect(
        exitStatus(new KashError(code, `it went wrong (${name})`, { hint: `Do this about ${name}.` }), io, false),
      ).toBe(code);
      expect(io.err).toBe(`error: it went wrong (${name})\nDo this about ${name}.\n`);
      expect(io.out).toBe('');
    });
  }

  it('no hint, no hint line', () => {
    const io = scriptIO();
    expect(exitStatus(new KashError(ExitCode.refused, 'the service refused: Authentication error'), io, false)).toBe(3);
    expect(io.err).toBe('error: the service refused: Authentication error\n');
  });

  it("the cause's stack only with --verbose", () => {
    const error = () =>
      new KashError(ExitCode.service, 'could not reach the service', { cause: new Error('ECONNREFUSED') });
    const quiet = scriptIO();
    exitStatus(error(), quiet, false);
    expect(quiet.err).not.toMatch(STACK_LINE);

    const verbose = scriptIO();
    exitStatus(error(), verbose, true);
    expect(verbose.err).toMatch(/^Error: ECONNREFUSED$/m);
    expect(verbose.err).toMatch(STACK_LINE);
  });

  it('an unexpected Error is exit 1, "unexpected internal error", no stack trace', () => {
    const io = scriptIO();
    expect(exitStatus(new TypeError('x is not a function'), io, false)).toBe(1);
    expect(io.err).toBe(
      'error: unexpected internal error: x is not a function\nRun again with --verbose for the stack trace, and report it.\n',
    );
  });

  it('an unexpected Error with --verbose shows its stack', () => {
    const io = scriptIO();
    expect(exitStatus(new TypeError('x is not a function'), io, true)).toBe(1);
    expect(errorLines(io)).toEqual(['error: unexpected internal error: x is not a function']);
    expect(io.err).toMatch(/^TypeError: x is not a function$/m);
    expect(io.err).toMatch(STACK_LINE);
  });

  it('something thrown that is not an Error is exit 1 too', () => {
    const io = scriptIO();
    expect(exitStatus('a string', io, false)).toBe(1);
    expect(errorLines(io)).toEqual(['error: unexpected internal error: a string']);
  });
});

describe('exit codes, through the whole program', () => {
  const passwordLogin = (answer: object, status = 200) =>
    service().post(ENDPOINTS.password, { login: LOGIN, password: PASSWORD }).reply(status, answer);

  const scenarios: Array<{
    name: string;
    status: number;
    args: string[];
    setUp?: (box: Sandbox) => void | Promise<void>;
    says: RegExp;
  }> = [
    // Only the commands that use the network check its settings (CLI.md, "Commands").
    {
      name: 'whoami with a bad timeout and base URL',
      status: 5,
      args: ['whoami', '--timeout', 'soon', '--base-url', 'http://kash.test'],
      says: /not logged in/,
    },
    { name: 'a bad profile name', status: 2, args: ['whoami', '--profile', 'no spaces'], says: /invalid profile name/ },
    {
      name: 'a bad timeout',
      status: 2,
      args: ['--timeout', 'soon', 'login', '--login', LOGIN],
      says: /invalid timeout/,
    },
    {
      name: 'an http:// base URL off loopback',
      status: 2,
      args: ['login', '--login', LOGIN, '--base-url', 'http://kash.test'],
      says: /https/,
    },
    {
      name: 'a wrong password',
      status: 3,
      args: ['login', '--login', LOGIN],
      setUp: () => void passwordLogin({ success: false, result: 'Authentication error' }),
      says: /Authentication error/,
    },
    {
      name: 'an HTTP 500',
      status: 4,
      args: ['login', '--login', LOGIN],
      setUp: () => void passwordLogin({ success: false, result: 'database down' }, 500),
      says: /HTTP 500/,
    },
    {
      name: 'an answer that is not JSON',
      status: 4,
      args: ['login', '--login', LOGIN],
      setUp: () => void service().post(ENDPOINTS.password).reply(200, '<html>maintenance</html>'),
      says: /kash\.test/,
    },
    { name: 'not logged in', status: 5, args: ['env'], says: /not logged in/ },
    {
      name: 'a corrupt store',
      status: 6,
      args: ['whoami'],
      setUp: ({ storeFile }) => writeFileSync(storeFile, '{"version":1,"profiles":', { mode: 0o600 }),
      says: /credentials\.json/,
    },
  ];
  for (const { name, status, args, setUp, says } of scenarios) {
    it(`${name} → ${status}`, async () => {
      const box = sandbox();
      await setUp?.(box);
      const io = scriptIO();

      expect(await kash(args, io, { ...box.env, KASH_PASSWORD: PASSWORD })).toBe(status);

      const lines = errorLines(io);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(says);
      expect(io.err).not.toMatch(STACK_LINE);
      expect(io.err).not.toContain(PASSWORD);
      expect(io.out).toBe('');
    });
  }

  it("commander's own usage errors are exit 2", async () => {
    const io = scriptIO();
    expect(await kash(['whoami', '--bogus'], io, sandbox().env)).toBe(2);
    expect(io.err).toContain("unknown option '--bogus'");
  });

  it('--version is exit 0 with the version on stdout', async () => {
    const io = scriptIO();
    expect(await kash(['--version'], io, sandbox().env)).toBe(0);
    expect(io.out).toBe(`${VERSION}\n`);
  });

  describe('a bug (a plain Error escaping a command) is exit 1', () => {
    const failingPrompter = () =>
      scriptedPrompter([ask.choose('How do you want to log in?', new TypeError('prompter exploded'))]);

    it('without a stack trace by default', async () => {
      const io = interactiveIO();
      expect(await kash(['login'], io, sandbox().env, prompterOverrides(failingPrompter()))).toBe(1);
      expect(errorLines(io)).toEqual(['error: unexpected internal error: prompter exploded']);
      expect(io.err).toContain('--verbose');
      expect(io.err).not.toMatch(STACK_LINE);
    });

    for (const [how, args, extra] of [
      ['--verbose', ['login', '--verbose'], {}],
      ['KASH_DEBUG=1', ['login'], { KASH_DEBUG: '1' }],
    ] as const) {
      it(`with the stack trace under ${how}`, async () => {
        const io = interactiveIO();
        expect(await kash([...args], io, { ...sandbox().env, ...extra }, prompterOverrides(failingPrompter()))).toBe(1);
        expect(errorLines(io)).toEqual(['error: unexpected internal error: prompter exploded']);
        expect(io.err).toMatch(/^TypeError: prompter exploded$/m);
        expect(io.err).toMatch(STACK_LINE);
      });
    }
  });
});

describe("flags after exec -- are the command's own", () => {
  it('kash exec -- /nonexistent --verbose: exit 127, one error line, no stack trace', async () => {
    const io = scriptIO();
    const env = { ...sandbox().env, KASH_APIKEY: 'ENVKEY-0123456789-FROMENV', KASH_SHOPID: '77' };
    expect(await kash(['exec', '--', '/nonexistent', '--verbose', '--no-color'], io, env)).toBe(127);
    expect(errorLines(io)).toEqual(['error: command not found: /nonexistent']);
    expect(io.err).not.toMatch(STACK_LINE);
  });
});

describe('color', () => {
  const notLoggedIn = 'not logged in (profile "default")';
  const hint = 'Run `kash login`, or set KASH_APIKEY and KASH_SHOPID.';

  it('the error line and its hint are painted when color is on', async () => {
    const io = paintedIO();
    expect(await kash(['whoami'], io, { ...sandbox().env, ...FORCED })).toBe(5);
    expect(io.err).toBe(`<red>error:</red> ${notLoggedIn}\n<dim>${hint}</dim>\n`);
  });

  for (const args of [
    ['whoami', '--no-color'],
    ['--no-color', 'whoami'],
  ]) {
    it(`the error line is plain with ${args.join(' ')}`, async () => {
      const io = paintedIO();
      expect(await kash(args, io, { ...sandbox().env, ...FORCED })).toBe(5);
      expect(io.err).toBe(`error: ${notLoggedIn}\n${hint}\n`);
    });
  }

  it('an IO without color (NO_COLOR, not a terminal) prints plain lines', async () => {
    const io = scriptIO();
    expect(await kash(['whoami'], io, sandbox().env)).toBe(5);
    expect(io.err).toBe(`error: ${notLoggedIn}\n${hint}\n`);
  });

  it('success lines are painted when color is on, plain with --no-color', async () => {
    const { env } = sandbox();
    service().post(ENDPOINTS.password, { login: LOGIN, password: PASSWORD }).reply(200, CREDENTIALS);
    service().post(ENDPOINTS.password, { login: LOGIN, password: PASSWORD }).reply(200, CREDENTIALS);
    const withPassword = { ...env, KASH_PASSWORD: PASSWORD, ...FORCED };

    const painted = paintedIO();
    expect(await kash(['login', '--login', LOGIN], painted, withPassword)).toBe(0);
    expect(painted.err).toMatch(/^<green>✓<\/green> Logged in to shop 42/m);

    const plain = paintedIO();
    expect(await kash(['login', '--login', LOGIN, '--no-color'], plain, withPassword)).toBe(0);
    expect(plain.err).toMatch(/^✓ Logged in to shop 42/m);
    expect(plain.err).not.toMatch(MARKERS);
  });

  it('warnings and the logout line are plain with --no-color', async () => {
    const { dir, env } = sandbox();
    const withEnvKeys = { ...env, KASH_APIKEY: 'ENVKEY-0123456789-FROMENV', KASH_SHOPID: '77', ...FORCED };

    await seedProfile(dir, 'default');
    const painted = paintedIO();
    expect(await kash(['logout'], painted, withEnvKeys)).toBe(0);
    expect(painted.err).toMatch(/^<green>✓<\/green> Logged out/m);
    expect(painted.err).toMatch(/^<yellow>warning:<\/yellow> KASH_APIKEY/m);

    await seedProfile(dir, 'default');
    const plain = paintedIO();
    expect(await kash(['logout', '--no-color'], plain, withEnvKeys)).toBe(0);
    expect(plain.err).toMatch(/^✓ Logged out/m);
    expect(plain.err).toMatch(/^warning: KASH_APIKEY/m);
    expect(plain.err).not.toMatch(MARKERS);
  });

  it('--json output is never painted', async () => {
    const { dir, env } = sandbox();
    await seedProfile(dir, 'default');
    const io = paintedIO();
    expect(await kash(['whoami', '--json'], io, { ...env, ...FORCED })).toBe(0);
    expect(io.out).not.toMatch(MARKERS);
    expect(JSON.parse(io.out)).toMatchObject({ profile: 'default' });
  });
});
