/**
 * Phase roll-ups: per (experiment, arm, source topic, partition), one bucket of everything from the
 * first minute of the experiment's current phase on (`res: 'p'`, `minute` = that minute, `start`
 * below), so the results of `window=all` merge one bucket per arm, topic and partition however long
 * the phase has run, instead of its days, hours and edge minutes.
 *
 * A phase's start comes from the experiments topic, which no data topic is ordered with, so a
 * partition learns it at some point while it consumes. From then on it keeps the roll-up like any
 * other bucket (each contribution at or after the start goes to it too, under the same lastOffset
 * guard), and at the point it learns the start it ESTABLISHES the roll-up: it sums, per arm, the
 * minute, hour and day buckets of that topic and partition that cover [start, ∞), and records the
 * start in a ledger document for (experiment, topic, partition). It establishes only where its
 * state is complete: once the partition has written a batch of that topic at or past the journal
 * head it loaded (after a crash between a batch's link and its buckets, the redelivery completes
 * the buckets first). A roll-up established then, with lastOffset = the batch's last offset, holds
 * every contribution of that topic and partition at or after the start, up to it.
 *
 * A reader trusts the roll-ups of a phase only when every (topic, partition) that holds data of the
 * experiment (its arms directory) has a ledger naming that start; otherwise it reads the minute, hour
 * and day buckets. Ledgers are written after the roll-ups they vouch for.
 */
import { addValues, type Bucket, coverWindow, emptyValues, newSketch, type SourceKind } from './bucket';
import { experimentScope } from './project-scope';

/** The resolution of a phase roll-up. */
export const PHASE_RES = 'p' as const;

/** The first minute of an experiment's current phase (epoch minutes), or undefined when unknown. */
export type PhaseStarts = (project: string, exp: string) => number | undefined;

/** The epoch minute a phase started at: `window=all` reads from it (0: the phase never changed). */
export function phaseStartMinute(phaseStartedAt: string | null | undefined): number {
  return phaseStartedAt ? Math.floor(Date.parse(phaseStartedAt) / 60_000) : 0;
}

/**
 * A partition's record that the roll-ups of `start` hold everything of (experiment, topic,
 * partition) from `start` on. Insert-only; the highest `start` of a (experiment, topic, partition)
 * is its established one.
 */
export interface PhaseLedgerDoc {
  /** `${experiment scope}|${kind}|${part}|${start}` */
  _id: string;
  project: string;
  exp: string;
  kind: SourceKind;
  part: number;
  start: number;
}

export function phaseLedgerId(scope: string, kind: SourceKind, part: number, start: number): string {
  return `${scope}|${kind}|${part}|${start}`;
}

/** The id of the roll-up of (experiment scope, arm, topic, partition) from `start` on. */
export function phaseBucketId(
  scope: string,
  arm: string,
  start: number,
  kind: SourceKind,
  part: number,
): string {
  return `${scope}|${arm}|${PHASE_RES}${start}|${kind}|${part}`;
}

/** The empty roll-up of (experiment, arm, topic, partition) from `start` on. */
export function emptyPhaseBucket(
  project: string,
  exp: string,
  arm: string,
  start: number,
  kind: SourceKind,
  part: number,
): Bucket {
  return {
    _id: phaseBucketId(experimentScope(project, exp), arm, start, kind, part),
    project,
    exp,
    arm,
    minute: start,
    res: PHASE_RES,
    kind,
    part,
    lastOffset: -1,
    latency: null,
    ...emptyValues(),
  };
}

/**
 * Of one (experiment, arm, topic, partition)'s buckets, those that cover the minutes [start, ∞)
 * exactly once: whole days, whole hours and edge minutes, and minutes wherever buckets stored before
 * roll-ups (no `res`) lie, as the window read selects them. Phase roll-ups are never part of it.
 */
export function coverSince(buckets: readonly Bucket[], start: number): Bucket[] {
  let first = Infinity;
  let last = -Infinity;
  for (const b of buckets) {
    if (b.res !== undefined || b.minute < start) continue;
    first = Math.min(first, b.minute);
    last = Math.max(last, b.minute);
  }
  const ranges = coverWindow(start, Number.MAX_SAFE_INTEGER, first <= last ? [first, last + 1] : undefined);
  return buckets.filter((b) => {
    if (b.res === PHASE_RES) return false;
    const res = b.res ?? 'm';
    return ranges.some((r) => r.res === res && b.minute >= r.from && b.minute < r.to);
  });
}

/** Adds `from`'s summaries and latency sketch into `into`. */
export function mergeInto(into: Bucket, from: Bucket): void {
  addValues(into, from);
  if (from.latency) {
    into.latency ??= newSketch();
    into.latency.merge(from.latency);
  }
}
