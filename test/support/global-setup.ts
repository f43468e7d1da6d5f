// Runs once per test run (per project), before any test file: probes every need
// (test/support/needs.ts) and hands the results to the test files, where requires() reads
// them; and makes the folder that every test file's sandbox (test/support/environment.ts)
// goes in, removed when the run ends, whatever became of the files' own clean-up.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { probeAll } from './needs.js';

export default async function setup(project: TestProject): Promise<() => void> {
  const temp = mkdtempSync(join(tmpdir(), `kash-tests-${project.name}-`));
  project.provide('kashTemp', temp);
  project.provide('kashNeeds', await probeAll());
  return () => {
    try {
      rmSync(temp, { recursive: true, force: true });
    } catch (error) {
      console.warn(`could not remove ${temp}: ${(error as Error).message}`);
    }
  };
}
