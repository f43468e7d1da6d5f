// kash switch, the default profile, and which credentials are in effect (CLI.md,
// "Commands"): --profile, then KASH_APIKEY/KASH_SHOPID, then KASH_PROFILE, the default,
// "default".
import { describe, expect, it } from 'vitest';
import {
  ask,
  commandTestHooks,
  errorLines,
  interactiveIO,
  kash,
  prompterOverrides,
  scriptedPrompter,
  scriptIO,
  seedProfile,
} from '../support/fakes.js';

const sandbox = commandTestHooks();
const ENV_KEYS = { KASH_APIKEY: 'ENVKEY-0123456789-FROMENV', KASH_SHOPID: '77' };

async function twoProfiles() {
  const box = sandbox();
  await seedProfile(box.dir, 'default', { shopId: '1', apiKey: 'KEY-default-000000-SECRET' });
  await seedProfile(box.dir, 'work', { shopId: '2', apiKey: 'KEY-work-0000000000-SECRET', shopTitle: 'Workshop' });
  return box;
}

const envOf = async (args: string[], env: NodeJS.ProcessEnv) => {
  const io = scriptIO();
  const status = await kash(['env', '--format', 'json', ...args], io, env);
  return { status, vars: status === 0 ? (JSON.parse(io.out) as Record<string, string>) : undefined, io };
};

describe('kash switch', () => {
  it('makes a saved profile the default: commands without --profile use it, and it says so', async () => {
    const { env, readStore } = await twoProfiles();
    const io = scriptIO();
    expect(await kash(['switch', 'work', '--json'], io, env)).toBe(0);
    expect(JSON.parse(io.out)).toEqual({ default: 'work' });
    expect(io.err).toContain('Commands without --profile now use profile "work"');
    expect(readStore()).toMatchObject({ version: 2, default: 'work' });
    expect((await envOf([], env)).vars).toEqual({ KASH_APIKEY: 'KEY-work-0000000000-SECRET', KASH_SHOPID: '2' });
    // KASH_PROFILE and --profile still name another.
    expect((await envOf([], { ...env, KASH_PROFILE: 'default' })).vars?.KASH_SHOPID).toBe('1');
    expect((await envOf(['--profile', 'default'], env)).vars?.KASH_SHOPID).toBe('1');
  });

  it('switching back to "default" leaves the store without a default', async () => {
    const { env, readStore } = await twoProfiles();
    expect(await kash(['switch', 'work'], scriptIO(), env)).toBe(0);
    expect(await kash(['switch', 'default'], scriptIO(), env)).toBe(0);
    expect(readStore()).not.toHaveProperty('default');
  });

  it('an unknown profile is exit 5 naming the saved ones; the store unchanged', async () => {
    const { env, storeBytes } = await twoProfiles();
    const before = storeBytes();
    const io = scriptIO();
    expect(await kash(['switch', 'home'], io, env)).toBe(5);
    expect(errorLines(io)).toEqual(['error: no saved profile "home"']);
    expect(io.err).toContain('Saved profiles: default, work.');
    expect(storeBytes()).toBe(before);
  });

  it('without a profile at a terminal: pick one from the saved profiles, with their shops', async () => {
    const { env, readStore } = await twoProfiles();
    const prompter = scriptedPrompter([ask.choose('default', /^work/)]);
    expect(await kash(['switch'], interactiveIO(), env, prompterOverrides(prompter))).toBe(0);
    expect(prompter.asked[0]?.choices).toEqual(['default (shop 1)', 'work (shop 2, Workshop)']);
    expect(readStore()).toMatchObject({ default: 'work' });
  });

  it('without a profile and nobody to ask: a usage error listing them; with none saved, exit 5', async () => {
    const { env } = await twoProfiles();
    const io = scriptIO();
    expect(await kash(['switch'], io, env)).toBe(2);
    expect(io.err).toContain('Saved profiles: default, work.');
    const empty = scriptIO();
    expect(await kash(['switch'], empty, { ...env, KASH_CONFIG_DIR: `${sandbox().dir}/none` })).toBe(5);
    expect(empty.err).toMatch(/No profile is saved yet: kash login/);
  });

  it('whoami --all marks the default; logging out of it clears it', async () => {
    const { env, readStore } = await twoProfiles();
    const all = async () => {
      const io = scriptIO();
      await kash(['whoami', '--all', '--json'], io, env);
      return (JSON.parse(io.out) as Array<{ profile: string; isDefault: boolean }>).map((p) => [
        p.profile,
        p.isDefault,
      ]);
    };
    expect(await all()).toEqual([
      ['default', true],
      ['work', false],
    ]);
    await kash(['switch', 'work'], scriptIO(), env);
    expect(await all()).toEqual([
      ['default', false],
      ['work', true],
    ]);
    const text = scriptIO();
    await kash(['whoami', '--all'], text, env);
    expect(text.out).toMatch(/^Profile +work \(default\)$/m);
    expect(text.out).toMatch(/^Profile +default$/m);
    expect(await kash(['logout', '--profile', 'work'], scriptIO(), env)).toBe(0);
    expect(readStore()).not.toHaveProperty('default');
    expect(await all()).toEqual([['default', true]]);
  });
});

describe('which credentials are in effect', () => {
  it('an explicit --profile beats KASH_APIKEY and KASH_SHOPID; they beat KASH_PROFILE and the default', async () => {
    const { env } = await twoProfiles();
    const withKeys = { ...env, ...ENV_KEYS };
    expect((await envOf([], withKeys)).vars?.KASH_SHOPID).toBe('77');
    expect((await envOf(['--profile', 'work'], withKeys)).vars?.KASH_SHOPID).toBe('2');
    expect((await envOf([], { ...withKeys, KASH_PROFILE: 'work' })).vars?.KASH_SHOPID).toBe('77');
    await kash(['switch', 'work'], scriptIO(), env);
    expect((await envOf([], withKeys)).vars?.KASH_SHOPID).toBe('77');
    const whoami = scriptIO();
    await kash(['whoami', '--json', '--profile', 'default'], whoami, withKeys);
    expect(JSON.parse(whoami.out)).toMatchObject({ profile: 'default', source: 'store', shopId: '1' });
  });

  it.each([
    ['KASH_APIKEY', { KASH_APIKEY: 'ENVKEY-0123456789-FROMENV' }, 'KASH_SHOPID'],
    ['KASH_SHOPID', { KASH_SHOPID: '77' }, 'KASH_APIKEY'],
  ])('%s alone is ignored, with a warning naming the missing one', async (_set, extra, missing) => {
    const { env } = await twoProfiles();
    const { vars, io } = await envOf([], { ...env, ...extra });
    expect(vars?.KASH_SHOPID).toBe('1');
    expect(io.err).toContain(`warning: ${_set} is set but ${missing} is not, so neither is used`);
  });
});
