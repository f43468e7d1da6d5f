/**
 * A value made at its first use, then kept: for what most runs never need, such as a
 * pattern with a Unicode property class (\p{Cf}), which V8 checks, ICU tables and all,
 * as soon as the pattern is created.
 */
export function lazily<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= make();
    return value;
  };
}
