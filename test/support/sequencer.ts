// The order test files start in: the longest first (as measured on the last run), across
// both projects, so that short files fill the end of the run on every core. vitest's own
// order runs the projects one after the other, which left the unit project's few slow
// files (real processes on one store) running alone at the end of npm test.
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

export default class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const byVitest = await super.sort(files);
    const last = (spec: TestSpecification) => {
      const key = `${spec.project.name}:${relative(this.ctx.config.root, spec.moduleId)}`;
      return this.ctx.cache.getFileTestResults(key);
    };
    // Failed first, then unknown (as vitest does), then by duration; ties keep vitest's order.
    const rank = (spec: TestSpecification) => {
      const result = last(spec);
      if (result === undefined) return Number.POSITIVE_INFINITY;
      return result.failed ? Number.MAX_VALUE : result.duration;
    };
    return byVitest
      .map((spec, index) => ({ spec, index, rank: rank(spec) }))
      .sort((a, b) => b.rank - a.rank || a.index - b.index)
      .map(({ spec }) => spec);
  }
}
