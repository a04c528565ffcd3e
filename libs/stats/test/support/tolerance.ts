/** Test-only helpers shared by the *.spec.ts files; not exported from the package. */
import reference from '../../fixtures/reference.json';
import decisionReference from '../../fixtures/decision-reference.json';
import type { StatResult } from '../../src/result';

export { decisionReference, reference };

/** Relative error |actual − expected| / |expected|; absolute error when expected is exactly 0. */
export function relErr(actual: number, expected: number): number {
  if (expected === 0) return Math.abs(actual);
  if (actual === expected) return 0;
  return Math.abs(actual - expected) / Math.abs(expected);
}

/** The agreement demanded of every value checked against SciPy. */
export const TOLERANCE = 1e-9;

/** Absolute floor used only where the reference value is exactly 0. */
export const ZERO_FLOOR = 1e-15;

export function expectClose(actual: number, expected: number, tolerance = TOLERANCE): void {
  const err = relErr(actual, expected);
  const bound = expected === 0 ? ZERO_FLOOR : tolerance;
  if (!(err < bound)) {
    throw new Error(
      `expected ${expected}, got ${actual} (relative error ${err.toExponential(2)} ≥ ${bound})`,
    );
  }
}

export function expectPair(
  actual: readonly [number, number],
  expected: readonly number[],
  tolerance = TOLERANCE,
): void {
  expectClose(actual[0], expected[0], tolerance);
  expectClose(actual[1], expected[1], tolerance);
}

/** Unwraps an ok result or fails the test with its reason. */
export function unwrap<T>(result: StatResult<T>): T {
  if (!result.ok) throw new Error(`expected ok, got ${result.reason}: ${result.detail}`);
  return result.value;
}

/** Asserts that no number anywhere in a value is NaN. */
export function expectNoNaN(value: unknown): void {
  const walk = (v: unknown): void => {
    if (typeof v === 'number') expect(Number.isNaN(v)).toBe(false);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(value);
}
