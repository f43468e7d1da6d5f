import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  claimName,
  copyName,
  defaultConfigDir,
  isClaimOn,
  isCopy,
  isKashFile,
  joinNames,
  LOCK_SUFFIX,
  ownerToken,
  STORE_FILE_NAME,
  setAsideName,
  TAKEOVER_SUFFIX,
} from '../../src/store/paths.js';

// os.homedir() follows HOME on POSIX, so the home folder is pinned for every case.
const HOME = '/home/tester';

describe('defaultConfigDir', () => {
  beforeEach(() => {
    vi.stubEnv('HOME', HOME);
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('is ~/.config/kash on Linux', () => {
    expect(defaultConfigDir({}, 'linux')).toBe(join(HOME, '.config', 'kash'));
  });

  it('honours XDG_CONFIG_HOME on Linux', () => {
    expect(defaultConfigDir({ XDG_CONFIG_HOME: '/srv/conf' }, 'linux')).toBe(join('/srv/conf', 'kash'));
  });

  it('ignores an empty XDG_CONFIG_HOME', () => {
    expect(defaultConfigDir({ XDG_CONFIG_HOME: '' }, 'linux')).toBe(join(HOME, '.config', 'kash'));
  });

  it('uses the same XDG layout on the other Unix systems', () => {
    expect(defaultConfigDir({}, 'freebsd')).toBe(join(HOME, '.config', 'kash'));
    expect(defaultConfigDir({ XDG_CONFIG_HOME: '/x' }, 'openbsd')).toBe(join('/x', 'kash'));
  });

  it('is ~/Library/Preferences/kash on macOS, whatever XDG_CONFIG_HOME says', () => {
    expect(defaultConfigDir({}, 'darwin')).toBe(join(HOME, 'Library', 'Preferences', 'kash'));
    expect(defaultConfigDir({ XDG_CONFIG_HOME: '/srv/conf' }, 'darwin')).toBe(
      join(HOME, 'Library', 'Preferences', 'kash'),
    );
  });

  it('is %APPDATA%\\kash\\Config on Windows', () => {
    const appData = 'C:\\Users\\tester\\AppData\\Roaming';
    expect(defaultConfigDir({ APPDATA: appData }, 'win32')).toBe(join(appData, 'kash', 'Config'));
  });

  it('falls back to <home>/AppData/Roaming on Windows without APPDATA', () => {
    expect(defaultConfigDir({}, 'win32')).toBe(join(HOME, 'AppData', 'Roaming', 'kash', 'Config'));
  });

  it.each(['linux', 'darwin', 'win32'] as const)(
    'has no "-nodejs" suffix (conf/env-paths default) on %s',
    (platform) => {
      const dir = defaultConfigDir({ APPDATA: 'C:\\AppData', XDG_CONFIG_HOME: '/xdg' }, platform);
      expect(dir).not.toMatch(/nodejs/);
      expect(dir.split(/[\\/]/)).toContain('kash');
    },
  );

  it('defaults to the running platform', () => {
    expect(defaultConfigDir({ XDG_CONFIG_HOME: '/xdg', APPDATA: 'C:\\AppData' })).toBe(
      defaultConfigDir({ XDG_CONFIG_HOME: '/xdg', APPDATA: 'C:\\AppData' }, process.platform),
    );
  });

  it('names the store file credentials.json', () => {
    expect(STORE_FILE_NAME).toBe('credentials.json');
  });
});

// Kash tightens a folder only when it holds nothing but these names, and removes a copy
// only when it is one of its own: the names it makes and the names it knows must agree.
describe('the files beside the store', () => {
  const lock = `${STORE_FILE_NAME}${LOCK_SUFFIX}`;
  const made = {
    store: STORE_FILE_NAME,
    lock,
    claim: claimName(lock, ownerToken()),
    takeover: `${lock}${TAKEOVER_SUFFIX}`,
    temporary: copyName(STORE_FILE_NAME, 'tmp'),
    trial: copyName(STORE_FILE_NAME, 'trial'),
    setAside: setAsideName(STORE_FILE_NAME, new Date('2026-12-01T19:18:35.743Z')),
  };

  it('knows every name it makes as its own', () => {
    for (const name of Object.values(made)) expect(isKashFile(name), name).toBe(true);
    expect(made.setAside).toBe('credentials.json.corrupt-2026-12-01T19-18-35-743Z');
  });

  it('takes none of the user’s for its own', () => {
    for (const name of [
      'credentials.json.bak',
      'credentials.json.tmp-notes',
      `${made.temporary}x`,
      'credentials.json.lock.old',
      'notes.txt',
    ]) {
      expect(isKashFile(name), name).toBe(false);
    }
  });

  it('removes as a left-over copy only its temporary and trial copies', () => {
    expect([made.temporary, made.trial].every(isCopy)).toBe(true);
    expect([made.store, made.lock, made.claim, made.setAside, 'credentials.json.tmp-notes'].some(isCopy)).toBe(false);
  });

  it('tells a claim on the lock from the lock and its guard', () => {
    expect(isClaimOn(lock, made.claim)).toBe(true);
    expect([lock, made.takeover, made.temporary].some((name) => isClaimOn(lock, name))).toBe(false);
  });
});

describe('joinNames', () => {
  // Folders as people and tools write them: doubled, dotted and trailing slashes, relative ones.
  const part = fc.constantFrom('', '.', '..', 'home', 'a b', '.config', '...', 'x.', 'é');
  const folder = fc
    .tuple(fc.boolean(), fc.array(part, { maxLength: 6 }), fc.boolean())
    .map(([absolute, parts, trailing]) => `${absolute ? '/' : ''}${parts.join('/')}${trailing ? '/' : ''}`);
  const name = fc.constantFrom('kash', '.config', 'credentials.json', 'Library', '.cache');

  it('gives what path.join gives, for any folder and plain names', () => {
    fc.assert(
      fc.property(folder, fc.array(name, { minLength: 1, maxLength: 3 }), (dir, names) => {
        expect(joinNames(dir, ...names)).toBe(join(dir, ...names));
      }),
      { numRuns: 2000 },
    );
  });

  it('appends to a clean folder without normalising it, and normalises any other', () => {
    expect(joinNames('/home/tester/.config', 'kash')).toBe('/home/tester/.config/kash');
    expect(joinNames('/home//tester/./x/../', 'kash')).toBe('/home/tester/kash');
    expect(joinNames('relative/dir', STORE_FILE_NAME)).toBe(`relative/dir/${STORE_FILE_NAME}`);
  });
});
