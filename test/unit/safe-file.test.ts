import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removeIfThere } from '../../src/store/safe-file.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kash-safe-file-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('removeIfThere', () => {
  it('removes a file, and says nothing of one that is already gone', () => {
    const file = join(dir, 'claim');
    writeFileSync(file, '');
    removeIfThere(file);
    expect(existsSync(file)).toBe(false);
    expect(() => removeIfThere(file)).not.toThrow();
  });

  it('never removes a folder in its place', () => {
    const folder = join(dir, 'folder');
    mkdirSync(folder);
    expect(() => removeIfThere(folder)).toThrow();
    expect(existsSync(folder)).toBe(true);
  });
});
