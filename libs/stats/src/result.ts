/**
 * Every public statistic returns a discriminated union instead of throwing or leaking NaN:
 * the analytics service renders `reason` ("not enough data yet") rather than a broken number.
 */

/** Machine-readable reasons a statistic cannot be computed from the given aggregates. */
export type DegenerateReason =
  | 'invalid-input'
  | 'no-data'
  | 'n<2'
  | 'zero-variance'
  | 'zero-effect'
  | 'fewer-than-2-arms'
  | 'non-positive-mean';

export interface StatOk<T> {
  readonly ok: true;
  readonly value: T;
}

export interface StatFailure<R extends DegenerateReason = DegenerateReason> {
  readonly ok: false;
  readonly reason: R;
  /** Human-readable detail for logs; never parse it, branch on `reason`. */
  readonly detail: string;
}

export type StatResult<T, R extends DegenerateReason = DegenerateReason> = StatOk<T> | StatFailure<R>;

export function ok<T>(value: T): StatOk<T> {
  return { ok: true, value };
}

export function fail<R extends DegenerateReason>(reason: R, detail: string): StatFailure<R> {
  return { ok: false, reason, detail };
}

/** A closed interval `[lower, upper]`. */
export type Interval = readonly [number, number];
