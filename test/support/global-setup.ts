// Runs once per test run, before any test file: probes every need (test/support/needs.ts)
// and hands the results to the test files, where requires() reads them.
import type { TestProject } from 'vitest/node';
import { probeAll } from './needs.js';

export default async function setup(project: TestProject): Promise<void> {
  project.provide('kashNeeds', await probeAll());
}
