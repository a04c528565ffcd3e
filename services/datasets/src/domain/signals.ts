/**
 * What an example's feedback says now, derived when the example is read: stored examples keep every
 * revision they received (writes are blind upserts), so "the latest" is decided here.
 */
import type { ExampleDoc, FeedbackRevision } from './example';
import { compareText } from './util';

export type FeedbackSource = FeedbackRevision['source'];

/** One signal's current value and the feedback item it comes from. */
export interface Signal<T> {
  value: T;
  source: FeedbackSource;
  feedbackId: string;
}

/** A rating on its own scale: `scale` is there when the scale is not the default 1..5. */
export interface RatingSignal extends Signal<number> {
  scale?: { min: number; max: number };
}

export interface Signals {
  rating?: RatingSignal;
  thumbs?: Signal<'up' | 'down'>;
  comment?: Signal<string>;
  correction?: Signal<string>;
  /** Score name -> its current value. */
  scores: Record<string, Signal<number>>;
}

/** The highest revision of each feedback item of the example, sorted by feedbackId. */
export function latestRevisions(doc: Pick<ExampleDoc, 'feedback'>): FeedbackRevision[] {
  const latest: FeedbackRevision[] = [];
  for (const revisions of Object.values(doc.feedback ?? {})) {
    let best: FeedbackRevision | undefined;
    for (const revision of Object.values(revisions)) {
      if (revision && (!best || revision.revision > best.revision)) best = revision;
    }
    if (best) latest.push(best);
  }
  return latest.sort((a, b) => compareText(a.feedbackId, b.feedbackId));
}

/**
 * For each signal (rating, thumbs, comment, correction, each score name): the value of the most
 * recent latest revision that carries it, most recent by (timestamp, receivedAt, feedbackId).
 */
export function deriveSignals(doc: Pick<ExampleDoc, 'feedback'>): Signals {
  const ordered = latestRevisions(doc).sort(
    (a, b) =>
      Date.parse(a.timestamp) - Date.parse(b.timestamp) ||
      Date.parse(a.receivedAt) - Date.parse(b.receivedAt) ||
      compareText(a.feedbackId, b.feedbackId),
  );
  const signals: Signals = { scores: {} };
  // Oldest first: a later item overwrites what an earlier one said.
  for (const item of ordered) {
    const from = { source: item.source, feedbackId: item.feedbackId };
    if (item.rating != null) {
      const scale = item.ratingScale;
      const custom = scale && (scale.min !== 1 || scale.max !== 5);
      signals.rating = {
        value: item.rating,
        ...from,
        ...(custom ? { scale: { min: scale.min, max: scale.max } } : {}),
      };
    }
    if (item.thumbs != null) signals.thumbs = { value: item.thumbs, ...from };
    if (item.comment != null) signals.comment = { value: item.comment, ...from };
    if (item.correction != null) signals.correction = { value: item.correction, ...from };
    for (const { name, value } of item.scores ?? []) signals.scores[name] = { value, ...from };
  }
  return signals;
}
