import { uuidv7Time } from '@llmops/platform';
import type { ItemRejection } from '../ingestion/item-rejection';
import { validationRejection } from '../ingestion/item-rejection';
import { FeedbackRevisions, type Reservation, type RevisionRequest } from './feedback-revisions';
import type { RevisionStores } from './persistence/feedback-revision.repository';
import type { FirstRevisionWriter } from './persistence/first-revision-writer';
import { reserveRevisions } from './reserve-revisions';
import { type ChainPlan, planChain, type RevisionState } from './revision-plan';
import type { ServerFeedbackIds } from './server-feedback-ids';

/** FEEDBACK_FIRST_CLAIM_AFTER_ACK, FEEDBACK_ID_MAX_CLOCK_SKEW_MS, FEEDBACK_REVISION_MAX_ATTEMPTS */
export interface PagedFeedbackRevisionsOptions {
  firstClaimAfterAck: boolean;
  maxClockSkewMs: number;
  maxAttempts: number;
}

/**
 * How long an edit of an id this replica issued waits for that id's revision-1 claim to be written
 * (normally one linger, FEEDBACK_FIRST_CLAIM_LINGER_MS). Past it, the edit is planned without the
 * claim (revision 2 of an unknown revision 1), which is safe; it never waits out a database outage.
 */
const SETTLE_WAIT_MS = 1_000;

/**
 * The design for FerretDB (see the README, "Server-issued ids"): a server-issued id is a tagged
 * UUIDv7 (ServerFeedbackIds) whose revision 1 is published without a claim and claimed after the
 * ack, many claims per page (FirstRevisionWriter). Every other revision, and every revision of a
 * client id, is claimed before publishing, as in PlainFeedbackRevisions. A client-supplied id that
 * the service recognises as its own is planned from what is readable, and as revision 2 of an
 * unknown revision 1 when its claim is not (yet): never a second revision 1.
 */
export class PagedFeedbackRevisions extends FeedbackRevisions {
  constructor(
    private readonly stores: RevisionStores,
    private readonly ids: ServerFeedbackIds,
    private readonly firstRevisions: FirstRevisionWriter,
    private readonly options: PagedFeedbackRevisionsOptions,
  ) {
    super();
  }

  issueId(): string {
    return this.ids.next();
  }

  async reserve(
    requests: readonly RevisionRequest[],
    receivedAt: string,
    project: string,
  ): Promise<Reservation> {
    const issuedPlans = new Map<string, ChainPlan>();
    const firstClaims: RevisionState[] = [];
    const refused = new Map<string, ItemRejection>();
    const toClaim: RevisionRequest[] = [];
    const recognised = new Set<string>();
    const waits: Promise<unknown>[] = [];
    for (const r of requests) {
      if (r.issued && this.options.firstClaimAfterAck) {
        // New by construction: revision 1, claimed after the ack.
        const plan = planChain(r.feedbackId, null, r.submissions, receivedAt);
        issuedPlans.set(r.feedbackId, plan);
        firstClaims.push(...plan.claims);
      } else if (r.issued || !this.ids.isServerIssued(r.feedbackId)) {
        toClaim.push(r);
      } else if (uuidv7Time(r.feedbackId) > Date.now() + this.options.maxClockSkewMs) {
        refused.set(r.feedbackId, notIssuedYet());
      } else {
        toClaim.push(r);
        recognised.add(r.feedbackId);
        // An edit of an id this replica issued a moment ago waits (briefly) for its revision-1 claim.
        const settled = this.firstRevisions.settled(r.feedbackId);
        if (settled) waits.push(settled);
      }
    }
    if (waits.length > 0) await settledOrTimeout(waits, SETTLE_WAIT_MS);
    const store = this.stores.forProject(project);
    const result = await reserveRevisions(store, toClaim, receivedAt, this.options.maxAttempts, (id) =>
      recognised.has(id),
    );
    for (const [id, plan] of issuedPlans) result.plans.set(id, plan);
    for (const [id, rejection] of refused) result.conflicts.set(id, rejection);
    return { ...result, acknowledged: () => this.firstRevisions.record(firstClaims, project) };
  }

  /** Nest calls it after the HTTP server stopped and before the MongoDB connection closes. */
  onApplicationShutdown(): Promise<void> {
    return this.firstRevisions.flush();
  }
}

function notIssuedYet(): ItemRejection {
  return validationRejection([
    {
      path: 'feedbackId',
      message:
        'a server-issued id whose time is in the future cannot have been issued yet; send the feedbackId the service returned, or your own id',
    },
  ]);
}

/** Waits for all `waits`, at most `ms` (the timer is cleared when they finish first). */
async function settledOrTimeout(waits: readonly Promise<unknown>[], ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.all(waits),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
