// Where a saved key goes (CLI.md, "Storage"), against an in-memory keyring: --storage
// auto|keyring|file and KASH_STORAGE; the order of a save; reads straight from the
// recorded place; whoami never asking the keyring; logout removing the item.
import { describe, expect, it } from 'vitest';
import { ENDPOINTS } from '../../src/api/client.js';
import {
  commandTestHooks,
  errorLines,
  kash,
  type MemoryKeyring,
  memoryKeyring,
  scriptIO,
  seedProfile,
  service,
} from '../support/fakes.js';

const sandbox = commandTestHooks();
const LOGIN = 'owner@example.com';
const PASSWORD = 'pw-SECRET-123';
const KEY = 'KEY-f3a9c1e07b5d42a8-SECRET';
const CREDENTIALS = { success: true, result: 'Here are your credentials', APIKEY: KEY, SHOPID: 42 };

/** The sandbox without KASH_STORAGE: as a user's shell would be. */
function userEnv(extra: NodeJS.ProcessEnv = {}) {
  const box = sandbox();
  const { KASH_STORAGE: _, ...env } = box.env;
  return { ...box, env: { ...env, KASH_PASSWORD: PASSWORD, ...extra } };
}

const login = (args: string[], env: NodeJS.ProcessEnv, keyring: MemoryKeyring) => {
  const io = scriptIO();
  return kash(['login', '--login', LOGIN, ...args], io, env, { keyring: () => keyring }).then((status) => ({
    status,
    io,
  }));
};

describe('--storage at login', () => {
  it('keyring: the key goes to the keyring alone, under a new keyringId; the file names it and holds no key', async () => {
    const { env, readStore, storeBytes } = userEnv();
    const keyring = memoryKeyring();
    service().post(ENDPOINTS.password).reply(200, CREDENTIALS);
    const { status, io } = await login(['--storage', 'keyring', '--json'], env, keyring);
    expect(status).toBe(0);
    const saved = readStore()?.profiles.default?.credentials as { storage: string; keyringId: string };
    expect(saved).toMatchObject({ storage: 'keyring', keyringId: expect.stringMatching(/^kash-[0-9a-f-]{36}$/) });
    expect(saved).not.toHaveProperty('apiKey');
    expect(storeBytes()).not.toContain(KEY);
    expect([...keyring.items]).toEqual([[saved.keyringId, KEY]]);
    expect(JSON.parse(io.out)).toMatchObject({ storage: 'keyring', apiKeyMasked: null });
    // Proven before the request, written before the file names it.
    expect(keyring.calls).toEqual(['probe', `set ${saved.keyringId}`]);
  });

  it('auto with a keyring that answers: the keyring', async () => {
    const { env, readStore } = userEnv();
    service().post(ENDPOINTS.password).reply(200, CREDENTIALS);
    expect((await login([], env, memoryKeyring())).status).toBe(0);
    expect(readStore()?.profiles.default?.credentials).toMatchObject({ storage: 'keyring' });
  });

  it('auto with no keyring at all: the file, with a warning naming the reason, the file and "plain text"', async () => {
    const { env, readStore, storeFile } = userEnv();
    service().post(ENDPOINTS.password).reply(200, CREDENTIALS);
    const { status, io } = await login([], env, memoryKeyring('absent'));
    expect(status).toBe(0);
    expect(readStore()?.profiles.default?.credentials).toMatchObject({ storage: 'file', apiKey: KEY });
    expect(io.err).toContain(
      `warning: no system keyring answers (no D-Bus session: DBUS_SESSION_BUS_ADDRESS is not set): the API key will be kept in plain text in ${storeFile}`,
    );
  });

  it.each([
    ['auto, a keyring there but failing (locked)', [], 'failing', /keyring failed: .*dismissed/],
    ['keyring, with no keyring at all', ['--storage', 'keyring'], 'absent', /no system keyring answers/],
    ['keyring, failing', ['--storage', 'keyring'], 'failing', /keyring failed/],
  ] as const)('%s: exit 6 before anything is sent, nothing saved', async (_what, args, state, says) => {
    const { env, storeBytes } = userEnv();
    const { status, io } = await login([...args], env, memoryKeyring(state));
    expect(status).toBe(6);
    expect(errorLines(io)[0]).toMatch(says);
    expect(storeBytes()).toBeUndefined();
  });

  it('file: no keyring call at all, and KASH_STORAGE says the same', async () => {
    const keyring = memoryKeyring();
    for (const how of [
      { args: ['--storage', 'file'], extra: {} },
      { args: [], extra: { KASH_STORAGE: 'file' } },
    ]) {
      const { env, readStore } = userEnv(how.extra);
      service().post(ENDPOINTS.password).reply(200, CREDENTIALS);
      expect((await login(how.args, env, keyring)).status).toBe(0);
      expect(readStore()?.profiles.default?.credentials).toMatchObject({ storage: 'file', apiKey: KEY });
    }
    expect(keyring.calls).toEqual([]);
  });

  it('--storage with --no-save is a usage error; KASH_STORAGE with --no-save is not read', async () => {
    const { env } = userEnv();
    const { status, io } = await login(['--storage', 'keyring', '--no-save'], env, memoryKeyring());
    expect(status).toBe(2);
    expect(errorLines(io)[0]).toMatch(/--storage goes with saving/);
    service().post(ENDPOINTS.password).reply(200, CREDENTIALS);
    const keyring = memoryKeyring();
    expect((await login(['--no-save'], { ...env, KASH_STORAGE: 'keyring' }, keyring)).status).toBe(0);
    expect(keyring.calls).toEqual([]);
  });

  it('a new login keeps the profile where it is; --storage file moves it and removes the item; a keyring save removes the old item', async () => {
    const { env, readStore } = userEnv();
    const keyring = memoryKeyring();
    const id = () => (readStore()?.profiles.default?.credentials as { keyringId?: string } | undefined)?.keyringId;
    service().post(ENDPOINTS.password).times(4).reply(200, CREDENTIALS);
    await login(['--storage', 'keyring'], env, keyring);
    const first = id();
    await login([], env, keyring);
    const second = id();
    expect(second).not.toBe(first);
    expect([...keyring.items.keys()]).toEqual([second]);
    await login(['--storage', 'file'], env, keyring);
    expect(readStore()?.profiles.default?.credentials).toMatchObject({ storage: 'file', apiKey: KEY });
    expect(keyring.items.size).toBe(0);
    // And an existing file profile stays in the file, whatever auto would pick.
    await login([], env, keyring);
    expect(readStore()?.profiles.default?.credentials).toMatchObject({ storage: 'file' });
  });
});

describe('reading a key kept in the keyring', () => {
  async function keyringProfile(keyring: MemoryKeyring) {
    const box = userEnv();
    service().post(ENDPOINTS.password).reply(200, CREDENTIALS);
    await login(['--storage', 'keyring'], box.env, keyring);
    return box;
  }

  it('env and exec read it from the keyring, as recorded, with no probe', async () => {
    const keyring = memoryKeyring();
    const { env } = await keyringProfile(keyring);
    keyring.calls.length = 0;
    const io = scriptIO();
    expect(await kash(['env', '--format', 'json'], io, env, { keyring: () => keyring })).toBe(0);
    expect(JSON.parse(io.out)).toEqual({ KASH_APIKEY: KEY, KASH_SHOPID: '42' });
    expect(keyring.calls).toEqual([expect.stringMatching(/^get kash-/)]);
  });

  it('whoami never asks the keyring: it says where the key is, masked as null', async () => {
    const keyring = memoryKeyring();
    const { env } = await keyringProfile(keyring);
    keyring.calls.length = 0;
    const json = scriptIO();
    expect(await kash(['whoami', '--json'], json, env, { keyring: () => memoryKeyring('failing') })).toBe(0);
    expect(JSON.parse(json.out)).toMatchObject({ storage: 'keyring', apiKeyMasked: null });
    const text = scriptIO();
    expect(await kash(['whoami'], text, env, { keyring: () => memoryKeyring('failing') })).toBe(0);
    expect(text.out).toMatch(/^API key +in the keyring$/m);
  });

  it.each([
    ['the item is gone', () => memoryKeyring(), /missing from the system keyring/, /kash login/],
    [
      'no keyring answers',
      () => memoryKeyring('absent'),
      /keeps its key in the system keyring, but none answers/,
      /--storage file/,
    ],
    ['the keyring fails', () => memoryKeyring('failing'), /keyring failed/, /Unlock/],
  ])('%s: exit 6 with a hint, never "not logged in"', async (_what, reading, says, hint) => {
    const { env } = await keyringProfile(memoryKeyring());
    const io = scriptIO();
    expect(await kash(['env'], io, env, { keyring: reading })).toBe(6);
    expect(errorLines(io)[0]).toMatch(says);
    expect(io.err).toMatch(hint);
    expect(io.out).toBe('');
  });
});

describe('logout', () => {
  it('removes the keyring item too', async () => {
    const keyring = memoryKeyring();
    const { env, readStore } = userEnv();
    service().post(ENDPOINTS.password).reply(200, CREDENTIALS);
    await login(['--storage', 'keyring'], env, keyring);
    expect(await kash(['logout'], scriptIO(), env, { keyring: () => keyring })).toBe(0);
    expect(keyring.items.size).toBe(0);
    expect(readStore()?.profiles).toEqual({});
  });

  it('a keyring that cannot be reached: exit 6, the profile kept; file profiles of --all still go', async () => {
    const keyring = memoryKeyring();
    const { dir, env, readStore } = userEnv();
    service().post(ENDPOINTS.password).reply(200, CREDENTIALS);
    await login(['--storage', 'keyring'], env, keyring);
    await seedProfile(dir, 'plain');
    const io = scriptIO();
    expect(await kash(['logout', '--all'], io, env, { keyring: () => memoryKeyring('failing') })).toBe(6);
    expect(errorLines(io)[0]).toMatch(
      /could not remove the key of profile "default" from the system keyring.*it is kept/,
    );
    expect(Object.keys(readStore()?.profiles ?? {})).toEqual(['default']);
    expect(keyring.items.size).toBe(1);
  });
});
