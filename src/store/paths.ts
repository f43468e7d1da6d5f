import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/**
 * The OS's per-user config folder with `kash` inside, as env-paths lays it out but
 * without conf's `-nodejs` suffix, so the path users read about is the path we use.
 */
export function defaultConfigDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string {
  const home = homedir();
  if (platform === 'win32') return join(env.APPDATA || join(home, 'AppData', 'Roaming'), 'kash', 'Config');
  if (platform === 'darwin') return join(home, 'Library', 'Preferences', 'kash');
  // The XDG spec says a relative XDG_CONFIG_HOME is invalid and to be ignored.
  const xdg = env.XDG_CONFIG_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(home, '.config'), 'kash');
}

export const STORE_FILE_NAME = 'credentials.json';
