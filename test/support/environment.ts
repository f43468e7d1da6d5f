// The environment every kash that a test starts runs in (runKash, the pty sessions, the
// shells of a suite): this process's own, less whatever would change how kash behaves,
// and walled off from the developer's own keychain, caches and configuration:
//
// - no KASH_* (but KASH_STORAGE=file), CI, colour, proxy or NODE_* variables from outside;
// - no session bus (DBUS_SESSION_BUS_ADDRESS, and XDG_RUNTIME_DIR, where a bus is found
//   without it) and no display, so that no keyring daemon can be reached or started;
// - HOME, XDG_CONFIG_HOME, XDG_CACHE_HOME, XDG_DATA_HOME, XDG_STATE_HOME and
//   XDG_RUNTIME_DIR inside a sandbox folder of this test file's own.
//
// A suite that means to use the real keyring asks for it (`realKeyring`): it keeps the
// session bus and the display, and gets no KASH_STORAGE.
//
// Every temporary folder of a test file is made inside the sandbox, which is removed when
// the file is done (the e2e harness does it in afterAll), and at the latest with the
// run's temporary folder (test/support/global-setup.ts).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';

export interface EnvironmentOptions {
  /** Keep the developer's session bus and display, and let kash choose its storage, for a keyring suite. */
  realKeyring?: boolean;
}

/** Variables dropped from this process's environment before kash sees it. */
const OUTSIDE =
  /^(KASH_.*|CI|NO_COLOR|FORCE_COLOR|(HTTPS?|ALL|NO)_PROXY|NODE_.*|COLUMNS|LINES|HOME|XDG_.*|DBUS_.*|DISPLAY|WAYLAND_DISPLAY|GNOME_KEYRING_.*|SSH_AUTH_SOCK)$/i;
/** What a keyring suite keeps of them. */
const KEYRING = /^(DBUS_SESSION_BUS_ADDRESS|XDG_RUNTIME_DIR|DISPLAY|WAYLAND_DISPLAY)$/;

let sandbox: string | undefined;

/** The run's temporary folder, from the global setup; the system's outside a vitest run. */
function runTemp(): string {
  try {
    return inject('kashTemp') ?? tmpdir();
  } catch {
    return tmpdir();
  }
}

/** This test file's sandbox folder (0700), made on first use. */
export function sandboxDir(): string {
  if (sandbox === undefined) {
    sandbox = mkdtempSync(join(runTemp(), 'sandbox-'));
    for (const sub of ['home', 'config', 'cache', 'data', 'state', 'runtime'])
      mkdirSync(join(sandbox, sub), { mode: 0o700 });
  }
  return sandbox;
}

/** A new empty folder (0700) inside the sandbox. */
export function tempDir(prefix = 'dir-'): string {
  return mkdtempSync(join(sandboxDir(), prefix));
}

/**
 * Removes the sandbox and everything in it; returns why it could not, if it could not
 * (a mount still in place, an immutable file), so that the caller can say so.
 */
export function removeSandbox(): string | undefined {
  if (sandbox === undefined) return undefined;
  const dir = sandbox;
  sandbox = undefined;
  try {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  } catch (error) {
    return `could not remove ${dir}: ${(error as Error).message}`;
  }
}

/**
 * What walls a process off from the developer's own files and keyring: HOME and the XDG
 * folders in the sandbox, KASH_STORAGE=file (for a test that builds an environment from
 * scratch; kashEnvironment includes these).
 */
export function isolation(options: EnvironmentOptions = {}): Record<string, string> {
  const root = sandboxDir();
  return {
    HOME: join(root, 'home'),
    XDG_CONFIG_HOME: join(root, 'config'),
    XDG_CACHE_HOME: join(root, 'cache'),
    XDG_DATA_HOME: join(root, 'data'),
    XDG_STATE_HOME: join(root, 'state'),
    ...(!options.realKeyring && { XDG_RUNTIME_DIR: join(root, 'runtime'), KASH_STORAGE: 'file' }),
  };
}

/** The environment for a kash (or a shell running kash) that a test starts. */
export function kashEnvironment(options: EnvironmentOptions = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (OUTSIDE.test(name) && !(options.realKeyring && KEYRING.test(name))) continue;
    env[name] = value;
  }
  return { ...env, ...isolation(options) };
}

/** `base` with `changes` applied: a value of `undefined` removes the variable. */
export function withChanges(
  base: Record<string, string>,
  changes: Record<string, string | undefined> = {},
): Record<string, string> {
  const env = { ...base };
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}
