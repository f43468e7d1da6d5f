// The exact bytes (and modes) of every file under a config folder, to compare a store
// before and after a command that must leave it exactly as it was.
import { chmodSync, cpSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface SnapshotEntry {
  /** Permission bits, e.g. 0o600. */
  mode: number;
  /** The file's bytes, base64, so that a failing comparison prints readably. */
  bytes: string;
}

/** Every regular file below `dir`, by path relative to it; `{}` when `dir` does not exist. */
export function storeSnapshot(dir: string): Record<string, SnapshotEntry> {
  const result: Record<string, SnapshotEntry> = {};
  if (!existsSync(dir)) return result;
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) {
        result[relative(dir, path)] = {
          mode: statSync(path).mode & 0o777,
          bytes: readFileSync(path).toString('base64'),
        };
      }
    }
  };
  walk(dir);
  return result;
}

/** The names of the entries directly inside `dir`, sorted. */
export function listDir(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/**
 * Copies a config folder with its modes. (fs.cpSync keeps a folder's mode on Node 20 but
 * not on 22 and later, and a 0755 copy would make kash warn and tighten it.)
 */
export function copyConfigDir(from: string, to: string): void {
  cpSync(from, to, { recursive: true });
  chmodSync(to, statSync(from).mode & 0o777);
}
