// Global settings: read once from commander (globalFlags), resolved by a pure function
// (resolveSettings), color decided once (colorLevel). CLI.md, "Global options".
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { KashError } from '../../src/errors.js';
import { colorLevel } from '../../src/io.js';
import { buildProgram, globalFlags } from '../../src/program.js';
import { type GlobalFlags, isVerbose, resolveSettings } from '../../src/settings.js';
import { scriptIO } from '../support/fakes.js';

/** The flags commander hands a command for `kash <args>`, read the way every command reads them. */
async function flagsOf(args: string[]): Promise<GlobalFlags> {
  let flags: GlobalFlags | undefined;
  const program = buildProgram(scriptIO(), async (command: Command) => {
    flags = globalFlags(command);
    throw new Error('stop');
  });
  await program.parseAsync(['node', 'kash', ...args]).catch(() => undefined);
  if (!flags) throw new Error(`no command ran for ${args.join(' ')}`);
  return flags;
}

describe('globalFlags: only what was typed, wherever it was typed', () => {
  it.each([
    [['whoami'], {}],
    [['--profile', 'a', 'whoami'], { profile: 'a' }],
    [['whoami', '--profile', 'a'], { profile: 'a' }],
    [['otp', 'consume', '--verbose', '--no-save'], { verbose: true }],
    [['--no-input', 'whoami', '--no-color'], { noInput: true, noColor: true }],
    [
      ['env', '--json', '--timeout', '5', '--base-url', 'https://x.test', '--config-dir', '/d'],
      { json: true, timeout: '5', baseUrl: 'https://x.test', configDir: '/d' },
    ],
  ])('kash %j', async (args, typed) => {
    const flags = await flagsOf(args);
    const given = Object.fromEntries(
      Object.entries(flags).filter(([, value]) => value !== undefined && value !== false),
    );
    expect(given).toEqual(typed);
  });

  it('takes nothing after exec --: the command keeps its own flags', async () => {
    const flags = await flagsOf(['exec', '--', './x', '--verbose', '--no-color', '--profile', 'p']);
    expect(flags).toMatchObject({ verbose: undefined, noColor: false, profile: undefined });
  });
});

describe('resolveSettings: flag, then variable, then default', () => {
  const resolve = (flags: GlobalFlags, env: NodeJS.ProcessEnv = {}) =>
    resolveSettings(flags, { HOME: '/home/u', ...env });

  it('is pure: the same input, the same settings', () => {
    const env = { KASH_PROFILE: 'p', KASH_DEBUG: '1' };
    const { network: _a, ...one } = resolve({ json: true }, env);
    const { network: _b, ...two } = resolve({ json: true }, env);
    expect(one).toEqual(two);
  });

  it('a flag beats its variable, and an explicit --profile is told apart from KASH_PROFILE', () => {
    expect(resolve({ profile: 'flag' }, { KASH_PROFILE: 'env' }).profile).toEqual({ name: 'flag', fromFlag: true });
    expect(resolve({}, { KASH_PROFILE: 'env' }).profile).toEqual({ name: 'env', fromFlag: false });
    expect(resolve({}, { KASH_PROFILE: '' }).profile).toBeUndefined();
    expect(resolve({ configDir: '/flag' }, { KASH_CONFIG_DIR: '/env' }).configDir).toBe('/flag');
    expect(resolve({}, { KASH_CONFIG_DIR: '/env' }).configDir).toBe('/env');
    expect(resolve({}, { XDG_CONFIG_HOME: '/xdg' }).configDir).toBe('/xdg/kash');
    expect(resolve({ verbose: true }).verbose).toBe(true);
    expect(resolve({}, { KASH_DEBUG: '1' }).verbose).toBe(true);
    expect(resolve({}).verbose).toBe(false);
  });

  it('--verbose and KASH_DEBUG=1 are one setting: whatever else is set, the settings are the same either way', () => {
    const env = { KASH_PROFILE: 'p', KASH_TIMEOUT: '7', KASH_BASE_URL: 'https://x.test', CI: 'true' };
    const { network: flagNetwork, ...byFlag } = resolve({ verbose: true, json: true }, env);
    const { network: envNetwork, ...byVariable } = resolve({ json: true }, { ...env, KASH_DEBUG: '1' });
    expect(byFlag).toEqual(byVariable);
    expect(flagNetwork()).toEqual(envNetwork());
    expect(isVerbose({ verbose: true }, {})).toBe(true);
    expect(isVerbose({}, { KASH_DEBUG: '1' })).toBe(true);
    expect(isVerbose({}, {})).toBe(false);
  });

  it('a bad profile name is a usage error at once', () => {
    expect(() => resolve({ profile: 'no spaces' })).toThrow(KashError);
    expect(() => resolve({}, { KASH_PROFILE: '../etc' })).toThrow(/invalid profile name/);
  });

  it('the base URL and timeout are checked only when asked for', () => {
    const settings = resolve({ timeout: 'soon' }, { KASH_BASE_URL: 'http://far.example' });
    expect(settings.configDir).toMatch(/kash$/);
    expect(() => settings.network()).toThrow(/invalid timeout|https/);
    expect(resolve({ baseUrl: 'https://x.test/', timeout: '2.5' }).network()).toEqual({
      baseUrl: 'https://x.test',
      baseUrlGiven: true,
      timeoutMs: 2500,
    });
    expect(resolve({}, { KASH_BASE_URL: 'https://env.test', KASH_TIMEOUT: '7' }).network()).toEqual({
      baseUrl: 'https://env.test',
      baseUrlGiven: true,
      timeoutMs: 7000,
    });
    expect(resolve({}).network()).toEqual({ baseUrl: 'https://kash.click', baseUrlGiven: false, timeoutMs: 30_000 });
  });

  it.each(['0.05', '0', '3600.5', '1e3', 'abc'])('a timeout of %s seconds is refused', (timeout) => {
    expect(() => resolve({ timeout }).network()).toThrow(/invalid timeout.*\n?|0\.1 to 3600/);
  });

  it.each([
    ['0.1', 100],
    ['3600', 3_600_000],
    [' 5 ', 5000],
  ])('a timeout of %s seconds is %i ms', (timeout, ms) => {
    expect(resolve({ timeout }).network().timeoutMs).toBe(ms);
  });

  it.each([
    [{}, {}, undefined],
    [{ noInput: true }, {}, '--no-input'],
    [{}, { KASH_NO_INPUT: '1' }, 'KASH_NO_INPUT is set'],
    [{}, { CI: 'true' }, 'CI is set'],
    [{}, { CI: '1' }, 'CI is set'],
    [{}, { CI: 'woodpecker' }, 'CI is set'],
    [{}, { CI: '' }, undefined],
    [{}, { CI: '0' }, undefined],
    [{}, { CI: 'false' }, undefined],
  ])('prompting with flags %j and %j: off because %s', (flags, env, because) => {
    expect(resolve(flags, env).noInputBecause).toBe(because);
  });
});

describe('colorLevel: decided once, for stderr', () => {
  it.each([
    [false, {}, true, 2],
    [false, {}, false, 0],
    [true, {}, true, 0],
    [true, { FORCE_COLOR: '3' }, true, 0],
    [false, { NO_COLOR: '1' }, true, 0],
    [false, { NO_COLOR: '' }, true, 2],
    [false, { FORCE_COLOR: '1' }, false, 1],
    [false, { FORCE_COLOR: '0' }, true, 0],
    [false, { FORCE_COLOR: '1', NO_COLOR: '1' }, false, 1],
    [false, { TERM: 'dumb' }, true, 0],
    [false, { COLORTERM: 'truecolor' }, true, 3],
  ])('--no-color %s, %j, stderr a terminal %s: level %i', (noColor, env, tty, level) => {
    expect(colorLevel(noColor, env, tty)).toBe(level);
  });
});
