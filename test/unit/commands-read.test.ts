import { describe, expect, it } from 'vitest';
import { ENDPOINTS } from '../../src/api/client.js';
import { type EnvOptions, runEnv } from '../../src/commands/env.js';
import { runLogout } from '../../src/commands/logout.js';
import { runWhoami } from '../../src/commands/whoami.js';
import { ExitCode, KashError } from '../../src/errors.js';
import {
  ask,
  BASE_URL,
  commandTestHooks,
  contextFor,
  errorLines,
  interactiveIO,
  kash,
  prompterOverrides,
  scriptedPrompter,
  scriptIO,
  seedProfile,
  service,
  withoutSpinner,
} from '../support/fakes.js';

const sandbox = commandTestHooks();

const API_KEY = 'KEY-abcdef0123456789-SECRET';
const ENV_KEY = 'ENVKEY-0123456789-FROMENV';
const WHOAMI_KEYS = [
  'profile',
  'source',
  'storage',
  'isDefault',
  'shopId',
  'shopTitle',
  'login',
  'email',
  'method',
  'baseUrl',
  'obtainedAt',
  'apiKeyMasked',
];

async function rejection(promise: Promise<unknown>): Promise<KashError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(KashError);
  return error as KashError;
}

describe('kash whoami', () => {
  it('shows the saved profile on stdout (the result of a query), the key masked, nothing on stderr', async () => {
    const { dir, env, storeFile } = sandbox();
    await seedProfile(dir, 'default', {
      apiKey: API_KEY,
      shopId: '42',
      shopTitle: 'My Shop',
      login: 'owner@example.com',
    });
    const io = scriptIO();

    await runWhoami(await contextFor(io, env), { all: false });

    expect(io.err).toBe('');
    expect(io.out).toMatch(/^Profile +default \(default\)$/m);
    expect(io.out).toMatch(new RegExp(`^Source +saved in ${storeFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
    expect(io.out).toMatch(/^Shop ID +42$/m);
    expect(io.out).toMatch(/^Shop +My Shop$/m);
    expect(io.out).toMatch(/^Login +owner@example\.com$/m);
    expect(io.out).toMatch(/^Method +password$/m);
    expect(io.out).toMatch(/^API key +KEY-…CRET$/m);
    expect(io.out).not.toContain(API_KEY);
    // Absent facts are left out.
    expect(io.out).not.toMatch(/^Email/m);
  });

  it('--json: the documented fields, no key, nothing on stderr', async () => {
    const { dir, env } = sandbox();
    const saved = await seedProfile(dir, 'work', {
      apiKey: API_KEY,
      method: 'otp',
      login: null,
      email: 'shop@example.com',
      shopTitle: 'Shop',
    });
    const io = scriptIO();

    await runWhoami(await contextFor(io, env, ['--json', '--profile', 'work']), { all: false });

    expect(io.err).toBe('');
    const result = JSON.parse(io.out) as Record<string, unknown>;
    expect(Object.keys(result).sort()).toEqual([...WHOAMI_KEYS].sort());
    expect(result).toEqual({
      profile: 'work',
      source: 'store',
      storage: 'file',
      isDefault: false,
      shopId: '42',
      shopTitle: 'Shop',
      login: null,
      email: 'shop@example.com',
      method: 'otp',
      baseUrl: BASE_URL,
      obtainedAt: saved.obtainedAt,
      apiKeyMasked: 'KEY-…CRET',
    });
    expect(io.out).not.toContain(API_KEY);
  });

  it('KASH_APIKEY and KASH_SHOPID win over the store, with source "env"', async () => {
    const { dir, env } = sandbox();
    await seedProfile(dir, 'default', { apiKey: API_KEY, shopId: '42' });
    const io = scriptIO();
    const withEnv = { ...env, KASH_APIKEY: ENV_KEY, KASH_SHOPID: '77' };

    await runWhoami(await contextFor(io, withEnv, ['--json']), { all: false });

    expect(JSON.parse(io.out)).toEqual({
      profile: 'default',
      source: 'env',
      storage: null,
      isDefault: false,
      shopId: '77',
      shopTitle: null,
      login: null,
      email: null,
      method: null,
      baseUrl: BASE_URL,
      obtainedAt: null,
      apiKeyMasked: 'ENVK…MENV',
    });

    const human = scriptIO();
    await runWhoami(await contextFor(human, withEnv), { all: false });
    expect(human.out).toMatch(/^Source +environment \(KASH_APIKEY and KASH_SHOPID\)$/m);
    expect(human.out).toMatch(/^Shop ID +77$/m);
    expect(human.err).toBe('');
  });

  it('only one of the two variables set: the store still decides', async () => {
    const { dir, env } = sandbox();
    await seedProfile(dir, 'default', { shopId: '42' });
    const io = scriptIO();

    await runWhoami(await contextFor(io, { ...env, KASH_APIKEY: ENV_KEY }, ['--json']), { all: false });

    expect(JSON.parse(io.out)).toMatchObject({ source: 'store', shopId: '42' });
  });

  it('--all lists every saved profile', async () => {
    const { dir, env } = sandbox();
    await seedProfile(dir, 'default', { shopId: '1' });
    await seedProfile(dir, 'work', { shopId: '2' });
    const io = scriptIO();

    await runWhoami(await contextFor(io, env, ['--json']), { all: true });

    const views = JSON.parse(io.out) as Array<{ profile: string; shopId: string }>;
    expect(views.map(({ profile, shopId }) => [profile, shopId]).sort()).toEqual([
      ['default', '1'],
      ['work', '2'],
    ]);
  });

  it('not logged in is exit 5 with a hint to log in', async () => {
    const { env } = sandbox();
    const error = await rejection(runWhoami(await contextFor(scriptIO(), env), { all: false }));
    expect(error.exitCode).toBe(ExitCode.notLoggedIn);
    expect(error.hint).toContain('kash login');

    const io = scriptIO();
    expect(await kash(['whoami', '--profile', 'work'], io, env)).toBe(5);
    expect(errorLines(io)).toEqual(['error: not logged in (profile "work")']);
    expect(io.err).toContain('kash login --profile work');
    expect(io.out).toBe('');
  });

  it('an explicit --profile beats KASH_APIKEY and KASH_SHOPID, so the hint does not offer them', async () => {
    const { env } = sandbox();
    const fromEnv = { ...env, KASH_APIKEY: ENV_KEY, KASH_SHOPID: '7' };
    for (const [args, extra] of [
      [['whoami', '--profile', 'work'], env],
      [['env', '--profile', 'work'], fromEnv],
    ] as const) {
      const io = scriptIO();
      expect(await kash([...args], io, extra)).toBe(5);
      expect(io.err).toBe('error: not logged in (profile "work")\nRun `kash login --profile work`.\n');
    }
    // KASH_PROFILE is no explicit --profile: the variables would win over it, so they are offered.
    const io = scriptIO();
    expect(await kash(['whoami'], io, { ...env, KASH_PROFILE: 'work' })).toBe(5);
    expect(io.err).toContain('Run `kash login --profile work`, or set KASH_APIKEY and KASH_SHOPID.');
  });
});

describe('kash shops', () => {
  const LIST = 'ID   Title\n101  Corner Café\n102  Harbour Store\n';
  const listed = () =>
    service()
      .post(ENDPOINTS.shops, { email: 'two@example.com' })
      .reply(200, [
        { accountTitle: 'Corner Café', accountID: '101' },
        { accountTitle: 'Harbour Store', accountID: '102' },
      ]);
  const noRowOf = (stderr: string) => {
    for (const row of LIST.trimEnd().split('\n')) expect(stderr).not.toContain(row);
  };

  it('at a terminal: the list on stdout alone; the prompt, the spinner and the hint on stderr', async () => {
    listed();
    const prompter = scriptedPrompter([ask.text('Email', 'two@example.com')]);
    const io = interactiveIO();
    expect(await kash(['shops'], io, sandbox().env, prompterOverrides(prompter))).toBe(0);
    expect(io.out).toBe(LIST);
    expect(io.err).toContain('Looking up your shops…');
    expect(withoutSpinner(io.err)).toBe(
      'Log in to one with: kash login --otp --email two@example.com --account-id <ID>\n',
    );
    noRowOf(io.err);
  });

  it('--verbose: the exchange is told on stderr, and the list is still on stdout alone', async () => {
    listed();
    const io = scriptIO();
    expect(await kash(['shops', '--email', 'two@example.com', '--verbose'], io, sandbox().env)).toBe(0);
    expect(io.out).toBe(LIST);
    expect(io.err).toMatch(/\[kash\] POST .*listShops/);
    noRowOf(io.err);
  });
});

describe('kash env', () => {
  const KEY = "ab'c-0123456789";
  const cases: Array<[format: string, expected: string]> = [
    ['sh', `export KASH_APIKEY='ab'\\''c-0123456789'\nexport KASH_SHOPID='42'\n`],
    ['fish', `set -gx KASH_APIKEY 'ab\\'c-0123456789'\nset -gx KASH_SHOPID '42'\n`],
    ['powershell', `$env:KASH_APIKEY = 'ab''c-0123456789'\n$env:KASH_SHOPID = '42'\n`],
    ['dotenv', `KASH_APIKEY="ab'c-0123456789"\nKASH_SHOPID="42"\n`],
    ['json', `{"KASH_APIKEY":"ab'c-0123456789","KASH_SHOPID":"42"}\n`],
  ];
  for (const [format, expected] of cases) {
    it(`--format ${format} lands on stdout only`, async () => {
      const { dir, env } = sandbox();
      await seedProfile(dir, 'default', { apiKey: KEY, shopId: '42' });
      const io = scriptIO();

      await runEnv(await contextFor(io, env), { format, prefix: 'KASH_' });

      expect(io.out).toBe(expected);
      expect(io.err).toBe('');
    });
  }

  it('--format cmd lands on stdout only', async () => {
    const { dir, env } = sandbox();
    await seedProfile(dir, 'default', { apiKey: API_KEY, shopId: '42' });
    const io = scriptIO();

    await runEnv(await contextFor(io, env), { format: 'cmd', prefix: 'KASH_' });

    expect(io.out).toBe(`set "KASH_APIKEY=${API_KEY}"\nset "KASH_SHOPID=42"\n`);
    expect(io.err).toBe('');
  });

  it('the default format is sh, through commander', async () => {
    const { dir, env } = sandbox();
    await seedProfile(dir, 'default', { apiKey: API_KEY, shopId: '42' });
    const io = scriptIO();

    expect(await kash(['env'], io, env)).toBe(0);

    expect(io.out).toBe(`export KASH_APIKEY='${API_KEY}'\nexport KASH_SHOPID='42'\n`);
    expect(io.err).toBe('');
  });

  it('--prefix renames both variables', async () => {
    const { dir, env } = sandbox();
    await seedProfile(dir, 'default', { apiKey: API_KEY, shopId: '42' });
    const io = scriptIO();

    expect(await kash(['env', '--prefix', 'MY_', '--format', 'dotenv'], io, env)).toBe(0);

    expect(io.out).toBe(`MY_APIKEY="${API_KEY}"\nMY_SHOPID="42"\n`);
  });

  it('an empty --prefix gives bare names', async () => {
    const { dir, env } = sandbox();
    await seedProfile(dir, 'default', { apiKey: API_KEY, shopId: '42' });
    const io = scriptIO();

    await runEnv(await contextFor(io, env), { format: 'json', prefix: '' });

    expect(JSON.parse(io.out)).toEqual({ APIKEY: API_KEY, SHOPID: '42' });
  });

  const refused: Array<[name: string, options: EnvOptions]> = [
    ['an unknown format', { format: 'zsh', prefix: 'KASH_' }],
    ['a prefix that is no identifier', { format: 'sh', prefix: 'MY-' }],
    ['a prefix that would run a command', { format: 'sh', prefix: '$(id)' }],
  ];
  for (const [name, options] of refused) {
    it(`refuses ${name} (exit 2) and prints nothing`, async () => {
      const { dir, env } = sandbox();
      await seedProfile(dir, 'default', { apiKey: API_KEY });
      const io = scriptIO();

      const error = await rejection(runEnv(await contextFor(io, env), options));

      expect(error.exitCode).toBe(ExitCode.usage);
      expect(io.out).toBe('');
    });
  }

  it('uses the environment credentials when both are set', async () => {
    const { env } = sandbox();
    const io = scriptIO();

    await runEnv(await contextFor(io, { ...env, KASH_APIKEY: ENV_KEY, KASH_SHOPID: '77' }), {
      format: 'json',
      prefix: 'KASH_',
    });

    expect(JSON.parse(io.out)).toEqual({ KASH_APIKEY: ENV_KEY, KASH_SHOPID: '77' });
  });

  it('not logged in is exit 5 and prints nothing on stdout', async () => {
    const { env } = sandbox();
    const io = scriptIO();

    expect(await kash(['env'], io, env)).toBe(5);

    expect(io.out).toBe('');
    expect(errorLines(io)).toHaveLength(1);
  });
});

describe('kash logout', () => {
  it('removes the profile, keeps the others, and says so on stderr', async () => {
    const { dir, env, storeFile, readStore } = sandbox();
    await seedProfile(dir, 'default');
    await seedProfile(dir, 'work');
    const io = scriptIO();

    await runLogout(await contextFor(io, env), { all: false });

    expect(Object.keys(readStore()?.profiles ?? {})).toEqual(['work']);
    expect(io.err).toBe(`✓ Logged out: removed "default" from ${storeFile}\n`);
    expect(io.out).toBe('');
  });

  it('--json: {"removed": [...]} on stdout', async () => {
    const { dir, env, readStore } = sandbox();
    await seedProfile(dir, 'default');
    await seedProfile(dir, 'work');
    const io = scriptIO();

    expect(await kash(['logout', '--json', '--all'], io, env)).toBe(0);

    expect(JSON.parse(io.out)).toEqual({ removed: ['default', 'work'] });
    expect(readStore()?.profiles).toEqual({});
  });

  it('logged out is fine: exit 0, nothing removed, no store file created', async () => {
    const { env, storeBytes } = sandbox();
    const io = scriptIO();

    expect(await kash(['logout', '--json'], io, env)).toBe(0);

    expect(JSON.parse(io.out)).toEqual({ removed: [] });
    expect(io.err).toContain('nothing to remove');
    expect(errorLines(io)).toEqual([]);
    expect(storeBytes()).toBeUndefined();
  });

  it('warns that credentials in the environment stay in use', async () => {
    const { dir, env } = sandbox();
    await seedProfile(dir, 'default');
    const io = scriptIO();

    await runLogout(await contextFor(io, { ...env, KASH_APIKEY: ENV_KEY, KASH_SHOPID: '77' }), { all: false });

    expect(io.err).toMatch(/^warning: KASH_APIKEY and KASH_SHOPID are still set/m);
  });
});
