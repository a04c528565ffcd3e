/**
 * MongoDB layout of the `experiments` collection (this service owns it).
 *
 * One document per experiment, `_id` = experiment key. The document is also the outbox: every
 * write replaces the snapshot, bumps `revision`, records the event describing that revision in
 * `pendingEvent` and sets `unpublished: true` in the same single-document (atomic) write. The
 * publisher clears `unpublished` once Kafka acknowledged that revision. No transactions needed.
 */
import type { EventType, ExperimentSnapshot, ExperimentStatus } from '@llmops/contracts';
import { Schema } from 'mongoose';

export const EXPERIMENT_MODEL = 'Experiment';

/** What the experiment event of the current revision says besides the snapshot. */
export interface PendingEvent {
  /** Stable across publish retries, so consumers can dedupe re-sends. */
  id: string;
  type: EventType;
  changedAt: string;
  changes?: string[];
  previousStatus?: ExperimentStatus;
  /**
   * The context of the request that made this revision: its event carries them, whichever
   * publisher sends it (the request's own, or the outbox loop after a failure). Absent in
   * documents written before they were stored; such an event gets new ids.
   */
  correlationId?: string;
  traceparent?: string;
}

/**
 * The snapshot as stored. `forced` is a list of pairs because user ids are arbitrary strings
 * (dots, `$`) that do not belong in MongoDB field names.
 */
export type StoredSnapshot = Omit<ExperimentSnapshot, 'forced'> & {
  forced?: Array<{ userId: string; arm: string }>;
};

export interface ExperimentDocument {
  _id: string;
  snapshot: StoredSnapshot;
  pendingEvent: PendingEvent;
  /** True until the event of `snapshot.revision` was acknowledged by Kafka. */
  unpublished: boolean;
  /** Newest revision acknowledged by Kafka (0 = none yet). */
  publishedRevision: number;
}

/**
 * The model's schema. Reads and writes go through the native collection (plain objects): the
 * snapshot's shape is the contract's, validated before it is written, so it is stored as is.
 */
export const ExperimentSchema = new Schema<ExperimentDocument>(
  {
    _id: { type: String, required: true },
    snapshot: { type: Schema.Types.Mixed, required: true },
    pendingEvent: { type: Schema.Types.Mixed, required: true },
    unpublished: { type: Boolean, required: true },
    publishedRevision: { type: Number, required: true },
  },
  { collection: 'experiments', versionKey: false },
);
// `_id` (the experiment key) serves lookups by key, the conditional writes
// `{ _id: key, 'snapshot.revision': expected }` (optimistic concurrency), and the list's pages
// `find({ _id: { $gt: cursor } }).sort({ _id: 1 }).limit(n)`.
// Outbox scan: `find({ unpublished: true })` by the publisher loop.
ExperimentSchema.index({ unpublished: 1 }, { name: 'unpublished_1' });
// Layer overlap check on writes: `find({ 'snapshot.layer.name': name })`.
ExperimentSchema.index({ 'snapshot.layer.name': 1 }, { name: 'snapshot_layer_name_1' });
