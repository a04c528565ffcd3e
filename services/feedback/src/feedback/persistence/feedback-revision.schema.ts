/**
 * `feedback_revisions`: one document per CLAIMED (project, feedbackId, revision), append-only. A
 * revision is claimed by inserting its `_id` (revisionKey), so exactly one content ever owns it: the
 * unique `_id` is the concurrency control, as MongoDB guarantees for any unique index. A
 * compare-and-set `updateOne` on one document per feedbackId would need the server to apply the
 * filter and the update atomically, which FerretDB 1.24 does not (it reads, then writes by `_id`).
 * The same feedbackId in two projects is two items, with revisions of their own.
 *
 * Two layouts, both read: a claim with its fields (FeedbackRevisionDocument), and a packed claim
 * (PackedRevisionDocument, written with FEEDBACK_PACKED_CLAIMS), `_id` plus one string `c`. The
 * project, feedbackId and revision follow from `_id`, which the reader built; the rest is one JSON
 * line. FerretDB's SQLite backend spends CPU per field of every inserted document, and a packed
 * claim has two instead of nine.
 *
 * Indexes: only the built-in unique `_id`. It serves every query: the claim insert and
 * `findOne({ _id: revisionKey(project, feedbackId, n) })`, which walks revisions 1, 2, ... to
 * find the latest one of a feedbackId (feedback is rarely edited more than a few times, and
 * FerretDB does not push down `$in`, range or sort queries, while point reads on `_id` are fast).
 */
import { DEFAULT_PROJECT } from '@llmops/contracts';
import { Schema } from 'mongoose';
import type { RevisionState } from '../revision-plan';

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

/**
 * A packed claim: `c` is the JSON array `[requestId, contentHash, receivedAt, timestamp,
 * previousRevision]`.
 */
export interface PackedRevisionDocument {
  /** revisionKey(project, feedbackId, revision) */
  _id: string;
  c: string;
}

export type StoredRevisionDocument = FeedbackRevisionDocument | PackedRevisionDocument;

export function revisionDocument(project: string, s: RevisionState): FeedbackRevisionDocument {
  return {
    _id: revisionKey(project, s.feedbackId, s.revision),
    project,
    feedbackId: s.feedbackId,
    revision: s.revision,
    requestId: s.requestId,
    contentHash: s.contentHash,
    previousRevision: s.previousRevision,
    receivedAt: s.receivedAt,
    timestamp: s.timestamp,
  };
}

export function packedRevision(project: string, s: RevisionState): PackedRevisionDocument {
  return {
    _id: revisionKey(project, s.feedbackId, s.revision),
    c: JSON.stringify([s.requestId, s.contentHash, s.receivedAt, s.timestamp, s.previousRevision]),
  };
}

/** The claim of (feedbackId, revision) that `doc`, read by its revisionKey, holds, in either layout. */
export function storedRevision(
  feedbackId: string,
  revision: number,
  doc: StoredRevisionDocument,
): RevisionState {
  if ('c' in doc) {
    const [requestId, contentHash, receivedAt, timestamp, previousRevision] = JSON.parse(doc.c) as [
      string,
      string,
      string,
      string,
      number | null,
    ];
    return { feedbackId, requestId, revision, contentHash, previousRevision, receivedAt, timestamp };
  }
  return {
    feedbackId: doc.feedbackId,
    requestId: doc.requestId,
    revision: doc.revision,
    contentHash: doc.contentHash,
    previousRevision: doc.previousRevision,
    receivedAt: doc.receivedAt,
    timestamp: doc.timestamp,
  };
}

export const FeedbackRevisionSchema = new Schema<StoredRevisionDocument>(
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
    c: String,
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
