// A test that needs a system tool or a capability says so here, by name. Missing on a
// person's machine: its tests are skipped, visibly. Under CI (CI set): they fail, since
// .ci/run installs everything and nothing may be skipped there.
import { execFileSync } from 'node:child_process';
import { describe, it } from 'vitest';

/** The tools and capabilities tests may need. */
export type Requirement = 'bash' | 'dash' | 'zsh' | 'fish' | 'script' | 'tinyproxy' | 'openssl';

const probes: Record<Requirement, [string, ...string[]]> = {
  bash: ['bash', '-c', 'true'],
  dash: ['dash', '-c', 'true'],
  zsh: ['zsh', '-f', '-c', 'true'],
  fish: ['fish', '--no-config', '-c', 'true'],
  script: ['script', '--version'],
  tinyproxy: ['tinyproxy', '-v'],
  openssl: ['openssl', 'version'],
};

const known = new Map<Requirement, boolean>();

function available(need: Requirement): boolean {
  let ok = known.get(need);
  if (ok === undefined) {
    const [file, ...args] = probes[need];
    try {
      execFileSync(file, args, { stdio: 'ignore', timeout: 10_000 });
      ok = true;
    } catch {
      ok = false;
    }
    known.set(need, ok);
  }
  return ok;
}

/**
 * `requires('zsh').describe(…)` or `.it(…)`: the usual vitest functions when every need is
 * met; otherwise skipped ones (failing ones under CI), named with what is missing.
 */
export function requires(...needs: Requirement[]): {
  describe: ReturnType<typeof describe.skipIf>;
  it: ReturnType<typeof it.skipIf>;
} {
  const missing = needs.filter((need) => !available(need));
  return { describe: describe.skipIf(missing.length > 0), it: it.skipIf(missing.length > 0) };
}
