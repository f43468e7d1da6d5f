// Ends a test run with one line when tests were skipped (or, under CI, failed) for want of
// a tool or capability (see requires.ts): what was missing, how many tests it cost, and the
// `apt-get install` line that would run them. Says nothing when nothing was missing.
import type { Reporter, TestCase, TestModule, Vitest } from 'vitest/node';
import type { Missing } from './needs.js';

/** The needs recorded on the test or on any suite around it. */
function missingAround(test: TestCase): Missing[] {
  const found: Missing[] = [...(test.meta().kashMissing ?? [])];
  for (let parent = test.parent; parent.type === 'suite'; parent = parent.parent)
    found.push(...(parent.meta().kashMissing ?? []));
  return found;
}

export interface Tally {
  /** Tests skipped (or failed), by the need they lacked; a test lacking two counts for both. */
  byNeed: Map<string, { missing: Missing; tests: number }>;
  tests: number;
}

export function tally(modules: readonly TestModule[], state: 'skipped' | 'failed'): Tally {
  const byNeed = new Map<string, { missing: Missing; tests: number }>();
  let tests = 0;
  for (const module of modules) {
    for (const test of module.children.allTests()) {
      if (test.result().state !== state) continue;
      const missing = missingAround(test);
      if (missing.length === 0) continue;
      tests++;
      for (const need of new Map(missing.map((m) => [m.need, m])).values()) {
        const entry = byNeed.get(need.need) ?? { missing: need, tests: 0 };
        entry.tests++;
        byNeed.set(need.need, entry);
      }
    }
  }
  return { byNeed, tests };
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

/** The one line, or undefined when no test lacked anything. */
export function summaryLine({ byNeed, tests }: Tally, verb: 'skipped' | 'failed', asRoot: boolean): string | undefined {
  if (tests === 0) return undefined;
  const entries = [...byNeed.values()].sort((a, b) => a.missing.need.localeCompare(b.missing.need));
  const needs = entries.map(({ missing, tests }) =>
    missing.apt
      ? `${missing.need} (${tests})`
      : `${missing.need} (${tests}; not permitted here: needs ${missing.grant})`,
  );
  const packages = [...new Set(entries.flatMap(({ missing }) => (missing.apt ? [missing.apt] : [])))];
  const install =
    packages.length > 0 ? `; to run them: ${asRoot ? '' : 'sudo '}apt-get install ${packages.join(' ')}` : '';
  const subject = verb === 'skipped' ? `Skipped ${plural(tests, 'test')}` : `${plural(tests, 'test')} failed`;
  return `${subject} for want of: ${needs.join(', ')}${install}`;
}

export default class NeedsReporter implements Reporter {
  private vitest: Vitest | undefined;

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
  }

  onTestRunEnd(modules: readonly TestModule[]): void {
    const asRoot = process.getuid?.() === 0;
    const lines = [
      summaryLine(tally(modules, 'failed'), 'failed', asRoot),
      summaryLine(tally(modules, 'skipped'), 'skipped', asRoot),
    ].filter((line): line is string => line !== undefined);
    for (const line of lines) (this.vitest?.logger ?? console).log(line);
  }
}
