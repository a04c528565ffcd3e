/**
 * `feedback_revisions`: one document per CLAIMED (feedbackId, revision), append-only. A revision is
 * claimed by inserting `_id = "<feedbackId>#<revision>"`, so exactly one content ever owns it: the
 * unique `_id` is the concurrency control, as MongoDB guarantees for any unique index. A
 * compare-and-set `updateOne` on one document per feedbackId would need the server to apply the
 * filter and the update atomically, which FerretDB 1.24 does not (it reads, then writes by `_id`).
 * (`#` + a decimal revision at the end keeps the mapping injective for any feedbackId.)
 *
 * Indexes: only the built-in unique `_id`. It serves every query: the claim insert and
 * `findOne({ _id: "<feedbackId>#<n>" })`, which walks revisions 1, 2, ... to find the latest one of
 * a feedbackId (feedback is rarely edited more than a few times, and FerretDB does not push down
 * `$in`, range or sort queries, while point reads on `_id` are fast).
 */
import { Schema } from 'mongoose';

export const FEEDBACK_REVISION_MODEL = 'FeedbackRevision';

export interface FeedbackRevisionDocument {
  /** `<feedbackId>#<revision>` */
  _id: string;
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

export function revisionKey(feedbackId: string, revision: number): string {
  return `${feedbackId}#${revision}`;
}
