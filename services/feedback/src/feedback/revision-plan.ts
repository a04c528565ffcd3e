/**
 * Pure revision planning for one feedbackId: from what the store holds (or nothing) and the
 * request's submissions for that id, in order: no record -> revision 1 (`new`); same content hash ->
 * `duplicate` (the stored revision, receivedAt and timestamp: same event id, same value); other
 * content -> `edit` (revision + 1); another requestId -> 409 (revisions share the partition key).
 * `unknownFirstRevision` (paged design: revision 1 exists but is not readable) makes any submission
 * an edit, revision 2, never a second revision 1.
 */
import type { ItemRejection } from '../ingestion/item-rejection';

export interface RevisionState {
  feedbackId: string;
  requestId: string;
  revision: number;
  contentHash: string;
  previousRevision: number | null;
  receivedAt: string;
  timestamp: string;
}

/**
 * What the planner knows of the latest revision. `requestId`/`contentHash` are null only for
 * `unknownFirstRevision`: nothing can be a duplicate of it, and no requestId check is possible.
 */
export type KnownRevision = Omit<RevisionState, 'requestId' | 'contentHash'> & {
  requestId: string | null;
  contentHash: string | null;
};

/** Revision 1 of a server-issued id, known to exist although its claim cannot be read (yet). */
export function unknownFirstRevision(feedbackId: string): KnownRevision {
  return {
    feedbackId,
    requestId: null,
    revision: 1,
    contentHash: null,
    previousRevision: null,
    receivedAt: '',
    timestamp: '',
  };
}

export interface Submission {
  requestId: string;
  contentHash: string;
  /** Client-supplied occurrence time, if any. */
  timestamp?: string;
}

export type Outcome = 'new' | 'edit' | 'duplicate';

export interface PlannedRevision {
  outcome: Outcome;
  revision: number;
  previousRevision: number | null;
  receivedAt: string;
  timestamp: string;
}

export interface ChainPlan {
  items: (PlannedRevision | ItemRejection)[];
  /** New revisions to claim in the store, in order (empty for duplicates only). */
  claims: RevisionState[];
}

export function isPlanned(x: PlannedRevision | ItemRejection): x is PlannedRevision {
  return 'revision' in x;
}

export function planChain(
  feedbackId: string,
  stored: KnownRevision | null,
  submissions: readonly Submission[],
  receivedAt: string,
): ChainPlan {
  let state: KnownRevision | null = stored;
  const claims: RevisionState[] = [];
  const items = submissions.map((s): PlannedRevision | ItemRejection => {
    if (state && state.requestId !== null && state.requestId !== s.requestId) {
      return {
        status: 409,
        code: 'feedback_id_conflict',
        message: `feedbackId ${feedbackId} belongs to requestId ${state.requestId}; feedback cannot move to another request (use a new feedbackId)`,
        details: { feedbackId, requestId: state.requestId },
      };
    }
    if (state && state.contentHash === s.contentHash) {
      return {
        outcome: 'duplicate',
        revision: state.revision,
        previousRevision: state.previousRevision,
        receivedAt: state.receivedAt,
        timestamp: state.timestamp,
      };
    }
    const next: RevisionState = {
      feedbackId,
      requestId: s.requestId,
      revision: state ? state.revision + 1 : 1,
      contentHash: s.contentHash,
      previousRevision: state ? state.revision : null,
      receivedAt,
      timestamp: s.timestamp ?? receivedAt,
    };
    const planned: PlannedRevision = {
      outcome: state ? 'edit' : 'new',
      revision: next.revision,
      previousRevision: next.previousRevision,
      receivedAt: next.receivedAt,
      timestamp: next.timestamp,
    };
    state = next;
    claims.push(next);
    return planned;
  });
  return { items, claims };
}
