import { isAbsolute, join } from 'node:path';

/**
 * HOME where it is set, as os.homedir() itself reads it first on Unix; node:os only
 * otherwise, since it is not in Node's start-up snapshot and every command would load it.
 */
export function homeFolder(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string {
  return (platform !== 'win32' && env.HOME) || process.getBuiltinModule('node:os').homedir();
}

/**
 * The OS's per-user config folder with `kash` inside, as env-paths lays it out but
 * without conf's `-nodejs` suffix, so the path users read about is the path we use.
 */
export function defaultConfigDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string {
  const home = () => homeFolder(env, platform);
  if (platform === 'win32') return join(env.APPDATA || join(home(), 'AppData', 'Roaming'), 'kash', 'Config');
  if (platform === 'darwin') return join(home(), 'Library', 'Preferences', 'kash');
  // The XDG spec says a relative XDG_CONFIG_HOME is invalid and to be ignored.
  const xdg = env.XDG_CONFIG_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(home(), '.config'), 'kash');
}

export const STORE_FILE_NAME = 'credentials.json';
