import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The OS's per-user config folder with `kash` inside, as env-paths lays it out but
 * without conf's `-nodejs` suffix, so the path users read about is the path we use.
 */
export function defaultConfigDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string {
  const home = homedir();
  if (platform === 'win32') return join(env.APPDATA || join(home, 'AppData', 'Roaming'), 'kash', 'Config');
  if (platform === 'darwin') return join(home, 'Library', 'Preferences', 'kash');
  return join(env.XDG_CONFIG_HOME || join(home, '.config'), 'kash');
}

export const STORE_FILE_NAME = 'credentials.json';
