/**
 * Claims revisions BEFORE anything is published (README, "Why the revision is claimed before the
 * broker ack"): each (feedbackId, revision) is bound to one content hash by a unique-key insert.
 * Optimistic: a feedbackId is first assumed new and its revision 1 claimed without a read; ids whose
 * claim was taken are read, re-planned and claimed again, up to `maxAttempts`. Ids `isServerIssued`
 * recognises (paged design) are read first and, with nothing readable, planned from
 * `unknownFirstRevision` (revision 2), since their revision 1 is claimed after the ack.
 */
import type { ItemRejection } from '../ingestion/item-rejection';
import type { RevisionStore } from './persistence/feedback-revision.repository';
import {
  type ChainPlan,
  type KnownRevision,
  planChain,
  type RevisionState,
  type Submission,
  unknownFirstRevision,
} from './revision-plan';

export interface ReservationRequest {
  feedbackId: string;
  submissions: Submission[];
}

export interface ReservationResult {
  plans: Map<string, ChainPlan>;
  /** Ids that kept losing the race; their submissions are rejected with 409 revision_conflict. */
  conflicts: Map<string, ItemRejection>;
  raceLosses: number;
}

export async function reserveRevisions(
  store: RevisionStore,
  requests: readonly ReservationRequest[],
  receivedAt: string,
  maxAttempts: number,
  isServerIssued: (feedbackId: string) => boolean = () => false,
): Promise<ReservationResult> {
  const plans = new Map<string, ChainPlan>();
  const conflicts = new Map<string, ItemRejection>();
  // Not in the map = not read yet, optimistically treated as absent.
  const stored = new Map<string, KnownRevision | null>();
  let pending = [...requests];
  let raceLosses = 0;
  const read = async (feedbackId: string): Promise<KnownRevision | null> => {
    if (!isServerIssued(feedbackId)) return store.latest(feedbackId);
    return (await store.latest(feedbackId, true)) ?? unknownFirstRevision(feedbackId);
  };
  // Read first: server-issued ids, and ids with several submissions (an optimistic claim of revision
  // 1 that is taken can still bind revision 2 to a later submission planned as an edit of it).
  const readFirst = pending.filter((r) => r.submissions.length > 1 || isServerIssued(r.feedbackId));
  await Promise.all(readFirst.map(async (r) => stored.set(r.feedbackId, await read(r.feedbackId))));

  for (let attempt = 1; pending.length > 0 && attempt <= maxAttempts; attempt++) {
    const claims: RevisionState[] = [];
    const attemptPlans = new Map<string, ChainPlan>();
    for (const r of pending) {
      const plan = planChain(r.feedbackId, stored.get(r.feedbackId) ?? null, r.submissions, receivedAt);
      attemptPlans.set(r.feedbackId, plan);
      claims.push(...plan.claims);
    }
    const lost = await store.claim(claims);
    for (const [id, plan] of attemptPlans) if (!lost.has(id)) plans.set(id, plan);
    // A taken claim is expected for retries and edits (optimistic first attempt); only losing after
    // a read is a race with another request.
    raceLosses += [...lost].filter((id) => stored.has(id)).length;
    pending = pending.filter((r) => lost.has(r.feedbackId));
    const fresh = await Promise.all(pending.map((r) => read(r.feedbackId)));
    pending.forEach((r, i) => stored.set(r.feedbackId, fresh[i]));
  }
  for (const r of pending) {
    conflicts.set(r.feedbackId, {
      status: 409,
      code: 'revision_conflict',
      message: `feedbackId ${r.feedbackId} is being changed by concurrent requests; retry`,
      details: { feedbackId: r.feedbackId },
    });
  }
  return { plans, conflicts, raceLosses };
}
