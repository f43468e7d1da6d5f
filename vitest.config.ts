import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import LongestFirst from './test/support/sequencer.js';

export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    reporters: ['default', './test/support/needs-reporter.ts'],
    // The e2e suites spend their time in the processes they start, not in the workers:
    // one worker per core keeps both busy.
    maxWorkers: Math.max(2, availableParallelism()),
    sequence: { sequencer: LongestFirst },
    projects: [
      // Unit tests read their settings through parameters and mock no module (STYLE.md), so
      // their files can share a worker's module graph: a fresh one per file costs more than the tests.
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], isolate: false } },
      // The e2e files mock nothing either, and what is a file's own (its sandbox, emulators,
      // daemons) its own hooks make and remove; a fresh module graph per file cost some 9 s
      // of CPU over the run.
      { extends: true, test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], isolate: false } },
    ],
  },
});
