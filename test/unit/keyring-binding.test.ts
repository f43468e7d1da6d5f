// kash loads the keyring library's binary for its platform without the library's loader
// (src/store/keyring.ts): the packages it names must be the library's own.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { PLATFORM_BINDINGS } from '../../src/store/keyring.js';

const manifest = JSON.parse(
  readFileSync(createRequire(import.meta.url).resolve('@napi-rs/keyring/package.json'), 'utf8'),
) as { optionalDependencies: Record<string, string>; version: string };

describe('the keyring binary of each platform', () => {
  it('is one of the packages the library ships its binaries in, at its own version', () => {
    for (const name of Object.values(PLATFORM_BINDINGS)) {
      expect(manifest.optionalDependencies[name], name).toBe(manifest.version);
    }
  });
});
