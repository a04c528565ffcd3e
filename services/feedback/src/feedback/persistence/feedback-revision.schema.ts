/**
 * `feedback_revisions`: one document per CLAIMED (feedbackId, revision), append-only.
 *
 * Why not one document per feedbackId moved with a compare-and-set `updateOne({ _id, revision })`:
 * the MongoDB-wire server we run (FerretDB 1.24, SQLite backend) does not execute conditional
 * updates atomically; with 5 concurrent CAS updates several "won" (measured: up to 5 of 5). Unique-key
 * INSERTS are atomic there as in MongoDB (measured: always exactly 1 winner), so a revision is
 * claimed by inserting `_id = "<feedbackId>#<revision>"`: exactly one content ever owns a revision.
 * (`#` + a decimal revision at the end keeps the mapping injective for any feedbackId.)
 *
 * Indexes: only the built-in unique `_id`. It serves every query: the claim insert (uniqueness is
 * the concurrency control) and `findOne({ _id: "<feedbackId>#<n>" })`, which walks revisions
 * 1, 2, ... to find the latest one of a feedbackId (feedback is rarely edited more than a few times,
 * and FerretDB does not push down `$in`, range or sort queries, while point reads on `_id` are fast).
 */
export const FEEDBACK_REVISIONS_COLLECTION = 'feedback_revisions';

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

export function revisionKey(feedbackId: string, revision: number): string {
  return `${feedbackId}#${revision}`;
}
