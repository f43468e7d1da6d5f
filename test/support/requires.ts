// A test that needs a system tool or a capability says so here, by name:
//
//   requires('zsh').it('…', …)            requires('tinyproxy', 'openssl').describe('…', …)
//   requires('mount').it.each(cases)(…)   requires('script').describe.concurrent('…', …)
//
// With every need met, these are vitest's own `it` and `describe`, every variant included.
// Otherwise, on a person's machine, the tests are skipped and their names end with
// `[needs zsh]`; the needs reporter then ends the run with one line naming what was
// skipped and the `apt-get install` line that would run it. Under CI (CI set to anything
// but empty, 0 or false), the same absence is a failure instead: .ci/run installs
// everything, and nothing may be skipped there.
//
// The probes (test/support/needs.ts) run once per run, in the global setup, which hands
// their results to every test file.
import { describe, inject, it, type TestOptions } from 'vitest';
import { isRequirement, type Missing, type Probe, type Requirement, underCi } from './needs.js';

export type { Requirement } from './needs.js';

let probed: Record<string, Probe> | undefined;

function probes(): Record<string, Probe> {
  probed ??= inject('kashNeeds');
  if (probed === undefined)
    throw new Error(
      'requires(): no probe results; run vitest with vitest.config.ts, whose global setup probes the needs',
    );
  return probed;
}

/** The needs that this machine lacks, each with why and how to get it. */
export function missingOf(needs: readonly Requirement[]): Missing[] {
  const found = probes();
  return needs.flatMap((need): Missing[] => {
    if (!isRequirement(need)) throw new Error(`requires(): unknown need ${JSON.stringify(need)}`);
    const probe = found[need] ?? { ok: false, why: `${need}: not probed by the global setup` };
    if (probe.ok) return [];
    return [{ need, why: probe.why, ...(probe.apt && { apt: probe.apt }), ...(probe.grant && { grant: probe.grant }) }];
  });
}

/** The error a test gets under CI for a need that is missing: it says what, why, and how to get it. */
export function missingError(missing: Missing[]): Error {
  const parts = missing.map((m) => {
    const fix = m.apt ? `install it: apt-get install ${m.apt}` : `it needs ${m.grant ?? 'what this machine lacks'}`;
    return `${m.need} (${m.why}; ${fix})`;
  });
  return new Error(
    `needs ${parts.join(', and ')}. CI is set, so a missing need fails the test rather than skipping it ` +
      '(.ci/run installs every tool the tests need).',
  );
}

type Body = (...args: never[]) => unknown;
type Call = [name: string | ((...args: never[]) => unknown), options: TestOptions, body: Body | undefined];
/** Turns the arguments of a final call (`it(name, fn)`, `describe(name, options, fn)`…) into the ones passed on. */
type Finish = (call: Call) => unknown[];

/** vitest's argument orders, `(name, fn, timeout)`, `(name, fn, options)` and `(name, options, fn)`, as one. */
function normalise(args: unknown[]): Call {
  const [name, second, third] = args as [Call[0], unknown, unknown];
  if (typeof second === 'function') {
    const options = typeof third === 'number' ? { timeout: third } : ((third as TestOptions | undefined) ?? {});
    return [name, options, second as Body];
  }
  return [name, (second as TestOptions | undefined) ?? {}, third as Body | undefined];
}

/** The modifiers that return another chain of the same API (`describe.concurrent.skip`…). */
const CHAIN = new Set(['concurrent', 'sequential', 'shuffle', 'skip', 'only', 'todo', 'fails']);

/** `api` with every final call passed through `finish`, through any chain of modifiers, `.each` and `.for`. */
function wrap<T extends object>(api: T, finish: Finish): T {
  return new Proxy(api, {
    apply(target, thisArg, args: unknown[]) {
      return Reflect.apply(target as (...a: unknown[]) => unknown, thisArg, finish(normalise(args)));
    },
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      if (prop === 'each' || prop === 'for') {
        return (...cases: unknown[]) => {
          const final = (value as (...c: unknown[]) => (...a: unknown[]) => unknown).apply(target, cases);
          return (...args: unknown[]) => final(...finish(normalise(args)));
        };
      }
      if (prop === 'skipIf' || prop === 'runIf')
        return (condition: unknown) => wrap((value as (c: unknown) => object).call(target, condition), finish);
      if (typeof prop === 'string' && CHAIN.has(prop)) return wrap(value as object, finish);
      return value;
    },
  });
}

const tagged = (name: Call[0], missing: Missing[]) =>
  `${typeof name === 'function' ? name.name : name} [needs ${missing.map((m) => m.need).join(', ')}]`;

const withMissing = (options: TestOptions, missing: Missing[]): TestOptions => ({
  ...options,
  meta: { ...options.meta, kashMissing: missing },
});

export interface Required {
  describe: typeof describe;
  it: typeof it;
}

/**
 * `requires('zsh').describe(…)` or `.it(…)`: vitest's own functions when every need is met;
 * otherwise ones that skip (under CI: fail), named with what is missing.
 */
export function requires(...needs: Requirement[]): Required {
  const missing = missingOf(needs);
  if (missing.length === 0) return { describe, it };

  if (!underCi()) {
    const skip: Finish = ([name, options, body]) => [
      tagged(name, missing),
      { ...withMissing(options, missing), skip: true },
      body,
    ];
    return { describe: wrap(describe, skip), it: wrap(it, skip) };
  }

  // Under CI: the test runs, and fails at once saying what is missing; a suite holds one
  // such test in place of its own (whose hooks would fail less clearly).
  const fail = () => {
    throw missingError(missing);
  };
  const failingTest: Finish = ([name, options]) => [tagged(name, missing), withMissing(options, missing), fail];
  const failingSuite: Finish = ([name, options]) => [
    tagged(name, missing),
    withMissing(options, missing),
    () => it(`has what it needs: ${missing.map((m) => m.need).join(', ')}`, fail),
  ];
  return { describe: wrap(describe, failingSuite), it: wrap(it, failingTest) };
}
