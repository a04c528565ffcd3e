/**
 * MongoDB layout of the `experiments` collection (this service owns it).
 *
 * One document per experiment of a project, `_id` = `experimentTopicKey(key, project)`: the experiment
 * key in project `default` (every document written before projects existed keeps its `_id`) and
 * `<project>/<key>` in any other project (keys cannot contain `/`), so a key is unique per project
 * and the `_id` is also the experiment's record key on the compacted topic. The document is also the outbox: every
 * write replaces the snapshot, bumps `revision`, records the event describing that revision in
 * `pendingEvent` and sets `unpublished: true` in the same single-document (atomic) write. The
 * publisher clears `unpublished` once Kafka acknowledged that revision. No transactions needed.
 */
import type {
  CloudEvent,
  EVENT_TYPES,
  EventType,
  ExperimentSnapshot,
  ExperimentStatus,
} from '@llmops/contracts';
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

/** An audit event (`io.llmops.audit.recorded.v1`), built when its change was written. */
export type AuditEvent = CloudEvent<typeof EVENT_TYPES.auditRecorded>;

/**
 * The snapshot as stored. `forced` is a list of pairs because user ids are arbitrary strings
 * (dots, `$`) that do not belong in MongoDB field names.
 */
export type StoredSnapshot = Omit<ExperimentSnapshot, 'forced'> & {
  forced?: Array<{ userId: string; arm: string }>;
};

export interface ExperimentDocument {
  _id: string;
  /** The owning project (documents written before projects get `default` at boot). */
  project: string;
  snapshot: StoredSnapshot;
  pendingEvent: PendingEvent;
  /**
   * The audit events of the changes whose publication is pending, oldest first: written with the
   * change (atomically, like `pendingEvent`), published with it, and carried over by a later
   * change until then, so a change is never without its audit event. Absent = none.
   */
  pendingAudits?: AuditEvent[];
  /** True until the event of `snapshot.revision` (and the pending audits) were acknowledged by Kafka. */
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
    project: { type: String, required: true },
    snapshot: { type: Schema.Types.Mixed, required: true },
    pendingEvent: { type: Schema.Types.Mixed, required: true },
    pendingAudits: { type: [Schema.Types.Mixed], default: undefined },
    unpublished: { type: Boolean, required: true },
    publishedRevision: { type: Number, required: true },
  },
  { collection: 'experiments', versionKey: false },
);
// `_id` serves lookups by (project, key), the conditional writes
// `{ _id, 'snapshot.revision': expected }` (optimistic concurrency) and the outbox's publishes.
// One project's list pages: `find({ project, _id: { $gt: cursor } }).sort({ _id: 1 }).limit(n)`.
ExperimentSchema.index({ project: 1, _id: 1 }, { name: 'project_1__id_1' });
// Outbox scan: `find({ unpublished: true })` by the publisher loop.
ExperimentSchema.index({ unpublished: 1 }, { name: 'unpublished_1' });
// Layer overlap check on writes, within a project: `find({ project, 'snapshot.layer.name': name })`.
ExperimentSchema.index({ project: 1, 'snapshot.layer.name': 1 }, { name: 'project_1_snapshot_layer_name_1' });

/** Indexes of earlier versions that a current one replaces; dropped at boot. */
export const REPLACED_INDEXES = ['snapshot_layer_name_1'];
