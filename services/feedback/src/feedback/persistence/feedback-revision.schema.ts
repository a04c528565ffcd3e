/**
 * `feedback_revisions`: one document per CLAIMED (project, feedbackId, revision), append-only. A
 * revision is claimed by inserting its `_id` (revisionKey), so exactly one content ever owns it: the
 * unique `_id` is the concurrency control, as MongoDB guarantees for any unique index. A
 * compare-and-set `updateOne` on one document per feedbackId would need the server to apply the
 * filter and the update atomically, which FerretDB 1.24 does not (it reads, then writes by `_id`).
 * The same feedbackId in two projects is two items, with revisions of their own.
 *
 * Indexes: only the built-in unique `_id`. It serves every query: the claim insert and
 * `findOne({ _id: revisionKey(project, feedbackId, n) })`, which walks revisions 1, 2, ... to
 * find the latest one of a feedbackId (feedback is rarely edited more than a few times, and
 * FerretDB does not push down `$in`, range or sort queries, while point reads on `_id` are fast).
 */
import { DEFAULT_PROJECT } from '@llmops/contracts';
import { Schema } from 'mongoose';

export const FEEDBACK_REVISION_MODEL = 'FeedbackRevision';

export interface FeedbackRevisionDocument {
  /** revisionKey(project, feedbackId, revision) */
  _id: string;
  /** Absent on documents written before projects: they belong to `default`. */
  project?: string;
  feedbackId: string;
  revision: number;
  requestId: string;
  /** SHA-256 hex of the canonical request content (see feedbackContentHash). */
  contentHash: string;
  previousRevision: number | null;
  /** RFC 3339; kept so a duplicate re-publishes a byte-identical event value. */
  receivedAt: string;
  timestamp: string;
}

export const FeedbackRevisionSchema = new Schema<FeedbackRevisionDocument>(
  {
    _id: String,
    project: String,
    feedbackId: String,
    revision: Number,
    requestId: String,
    contentHash: String,
    previousRevision: Number,
    receivedAt: String,
    timestamp: String,
  },
  { collection: 'feedback_revisions', versionKey: false },
);

/**
 * `<feedbackId>#<revision>` in project default (the key of documents written before projects), and
 * `<feedbackId>#<revision>@<project>` in any other. Injective for any feedbackId: after the last `#`
 * a default key has digits only, any other key digits, `@` and the project (which holds neither
 * `#` nor `@`).
 */
export function revisionKey(project: string, feedbackId: string, revision: number): string {
  return project === DEFAULT_PROJECT ? `${feedbackId}#${revision}` : `${feedbackId}#${revision}@${project}`;
}
