import type { ReservationRequest, ReservationResult } from './reserve-revisions';

export interface RevisionRequest extends ReservationRequest {
  /** `feedbackId` was issued for this request by `issueId()` (the client sent none). */
  issued: boolean;
}

export interface Reservation extends ReservationResult {
  /** The broker acknowledged the planned events: what may wait until then is written now. */
  acknowledged(): void;
}

/**
 * The design FEEDBACK_REVISION_STORE selects. `auto` picks the plain design on MongoDB unless the
 * database already holds pages (written on FerretDB, or by a version that always paged): the plain
 * design does not read them, so an edit of such an id would be claimed as a second revision 1.
 */
export function revisionStoreDesign(
  setting: 'auto' | 'plain' | 'paged',
  server: 'mongodb' | 'ferretdb',
  holdsPages: boolean,
): 'plain' | 'paged' {
  if (setting !== 'auto') return setting;
  return server === 'mongodb' && !holdsPages ? 'plain' : 'paged';
}

/**
 * Where the revisions of feedback ids are claimed: each (feedbackId, revision) is bound to exactly
 * one content before an event with id `fb:<feedbackId>:<revision>` can be published. The use case
 * depends on this alone; the module picks the implementation once, at boot (revisionStoreDesign):
 * - MongoDB: `PlainFeedbackRevisions`, every revision claimed before publishing, ids plain UUIDv7s;
 * - FerretDB: `PagedFeedbackRevisions`, revision 1 of a server-issued id claimed after the ack, in
 *   pages (a document per claim costs FerretDB's SQLite backend far more CPU than MongoDB).
 */
export abstract class FeedbackRevisions {
  /** A new feedbackId for an item that has none. */
  abstract issueId(): string;
  /**
   * Plans the submissions of each id of `project` (new, duplicate, edit) and claims the revisions
   * that must be bound before publishing. Ids refused as a whole (lost races, ids that cannot exist)
   * are in `conflicts`.
   */
  abstract reserve(
    requests: readonly RevisionRequest[],
    receivedAt: string,
    project: string,
  ): Promise<Reservation>;
}
