import { type CloudEvent, type EVENT_TYPES, serializeEvent, TOPICS, topicName } from '@llmops/contracts';
import { CanonicalizationError } from '@llmops/hashing';
import {
  eventTime,
  KafkaUnavailableError,
  type RequestContext,
  SERVICE_CONFIG,
  uuidv7Time,
} from '@llmops/platform';
import { Inject, Injectable } from '@nestjs/common';
import type { FeedbackConfig } from '../config/feedback.config';
import { EventPublisher, type KeyedEvent } from '../ingestion/event-publisher';
import { checkEventSize, checkTextLimits } from '../ingestion/field-limits';
import { IngestionMetrics } from '../ingestion/ingestion.metrics';
import {
  contractRejection,
  isContractValidationError,
  type ItemRejection,
  validationRejection,
  zodRejection,
} from '../ingestion/item-rejection';
import { createRedactor, type Redactor } from '../ingestion/redaction';
import {
  buildSubmitFeedbackRequestSchema,
  plainFeedbackRequest,
  type RatingScale,
  type SubmitFeedbackRequest,
  type SubmitFeedbackRequestSchema,
} from './dto/submit-feedback.request';
import { draftFeedbackEvent, feedbackContentHash, finalizeFeedbackEvent } from './feedback-event';
import { FeedbackRevisionRepository, type RevisionStore } from './persistence/feedback-revision.repository';
import { FirstRevisionWriter } from './persistence/first-revision-writer';
import { type ReservationRequest, reserveRevisions } from './reserve-revisions';
import { type ChainPlan, isPlanned, type Outcome, planChain, type RevisionState } from './revision-plan';
import { ServerFeedbackIds } from './server-feedback-ids';

export type FeedbackOutcome =
  | { ok: true; feedbackId: string; revision: number; outcome: Outcome }
  | { ok: false; rejection: ItemRejection };

const EDIT_MARGIN_BYTES = 64;
/**
 * How long an edit of an id this replica issued waits for that id's revision-1 claim to be written
 * (normally one linger, FEEDBACK_FIRST_CLAIM_LINGER_MS). Past it, the edit is planned without the
 * claim (revision 2 of an unknown revision 1), which is safe; it never waits out a database outage.
 */
const SETTLE_WAIT_MS = 1_000;

interface Chain {
  feedbackId: string;
  issued: boolean;
  candidates: Candidate[];
  /** Set for ids issued in this request (no store involved before the ack). */
  plan?: ChainPlan;
}

interface Candidate {
  index: number;
  feedbackId: string;
  /** The server issued `feedbackId` for this item (the request had none). */
  issued: boolean;
  /** A client-supplied `feedbackId` that the service issued earlier (server-feedback-ids.ts). */
  recognised: boolean;
  req: SubmitFeedbackRequest;
  contentHash: string;
  draft: CloudEvent<typeof EVENT_TYPES.feedbackSubmitted>;
  /** JSON of `draft` (computed for the size check, reused when the plan leaves it unchanged). */
  draftValue: string;
}

/**
 * Feedback intake (single = a batch of one):
 * 1. validate each item (schema, text limits, contract) and hash its content;
 * 2. for client-supplied feedbackIds, reserve revisions in `feedback_revisions` (new / duplicate /
 *    edit; compare-and-set); an item without one gets a server-issued id and is revision 1;
 * 3. publish every accepted item in ONE producer send and wait for the broker ack (acks -1);
 * 4. queue the revision-1 claims of the server-issued ids (FirstRevisionWriter, after the ack).
 * A broker failure throws KafkaUnavailableError (503): nothing of the request is promised. The
 * reservations made in step 2 stay; a retry with the same content is then a duplicate of the
 * reserved revision and publishes exactly that event (same id, same value). Server-issued ids of a
 * refused request are never claimed: the client never learnt them.
 */
@Injectable()
export class SubmitFeedbackUseCase {
  private readonly topic: string;
  private readonly scale: RatingScale;
  private readonly schema: SubmitFeedbackRequestSchema;
  private readonly redact: Redactor;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: FeedbackConfig,
    @Inject(FeedbackRevisionRepository) private readonly store: RevisionStore,
    private readonly publisher: EventPublisher,
    private readonly metrics: IngestionMetrics,
    private readonly ids: ServerFeedbackIds,
    private readonly firstRevisions: FirstRevisionWriter,
  ) {
    this.topic = topicName(TOPICS.feedback, config.KAFKA_TOPIC_PREFIX);
    this.scale = { min: config.FEEDBACK_RATING_MIN, max: config.FEEDBACK_RATING_MAX };
    this.schema = buildSubmitFeedbackRequestSchema(this.scale);
    this.redact = createRedactor(config.FEEDBACK_REDACT_PII);
  }

  async execute(items: readonly unknown[], ctx: RequestContext): Promise<FeedbackOutcome[]> {
    const receivedAt = eventTime();
    const outcomes: FeedbackOutcome[] = new Array<FeedbackOutcome>(items.length);
    const reject = (index: number, rejection: ItemRejection): void => {
      this.metrics.reject('feedback', rejection.code);
      outcomes[index] = { ok: false, rejection };
    };

    // One chain per feedbackId (the submissions of one id, in item order). An id issued in this
    // request is its item's alone: a client item naming it is refused below.
    let chains: Chain[] = [];
    const clientChains = new Map<string, Chain>();
    const issuedIds = new Set<string>();
    items.forEach((item, index) => {
      const candidate = this.prepare(item, index, receivedAt);
      if ('rejection' in candidate) return reject(index, candidate.rejection);
      if (candidate.issued) issuedIds.add(candidate.feedbackId);
      let chain = candidate.issued ? undefined : clientChains.get(candidate.feedbackId);
      if (!chain) {
        chain = { feedbackId: candidate.feedbackId, issued: candidate.issued, candidates: [] };
        chains.push(chain);
        if (!candidate.issued) clientChains.set(candidate.feedbackId, chain);
      }
      chain.candidates.push(candidate);
    });
    // A client item naming an id issued in this very request can only be a guess (it was never
    // returned to anyone): refused, so that one id never has two chains in one plan.
    if (issuedIds.size > 0 && clientChains.size > 0) {
      chains = chains.filter((chain) => {
        if (chain.issued || !issuedIds.has(chain.feedbackId)) return true;
        for (const c of chain.candidates) reject(c.index, issuedInThisRequest(chain.feedbackId));
        return false;
      });
    }

    const afterAck = this.config.FEEDBACK_FIRST_CLAIM_AFTER_ACK;
    const firstClaims: RevisionState[] = [];
    const requests: ReservationRequest[] = [];
    const recognised = new Set<string>();
    const waits: Promise<unknown>[] = [];
    for (const chain of chains) {
      const submissions = chain.candidates.map((c) => ({
        requestId: c.req.requestId,
        contentHash: c.contentHash,
        timestamp: c.req.timestamp,
      }));
      if (chain.issued && afterAck) {
        // New by construction: revision 1, claimed after the ack (FirstRevisionWriter).
        chain.plan = planChain(chain.feedbackId, null, submissions, receivedAt);
        firstClaims.push(...chain.plan.claims);
        continue;
      }
      requests.push({ feedbackId: chain.feedbackId, submissions });
      if (!chain.candidates[0]?.recognised) continue;
      recognised.add(chain.feedbackId);
      // An edit of an id this replica issued a moment ago waits (briefly) for its revision-1 claim.
      const settled = this.firstRevisions.settled(chain.feedbackId);
      if (settled) waits.push(settled);
    }
    if (waits.length > 0) await settledOrTimeout(waits, SETTLE_WAIT_MS);
    const reservation =
      requests.length === 0
        ? undefined
        : await reserveRevisions(
            this.store,
            requests,
            receivedAt,
            this.config.FEEDBACK_REVISION_MAX_ATTEMPTS,
            (id) => recognised.has(id),
          );
    if (reservation && reservation.raceLosses > 0) this.metrics.revisionConflicts.inc(reservation.raceLosses);

    const events: KeyedEvent[] = [];
    const counts: Record<Outcome, number> = { new: 0, edit: 0, duplicate: 0 };
    for (const chain of chains) {
      const { feedbackId } = chain;
      const conflict = chain.plan ? undefined : reservation?.conflicts.get(feedbackId);
      const plan = chain.plan ?? reservation?.plans.get(feedbackId);
      chain.candidates.forEach((c, i) => {
        const planned = plan?.items[i];
        if (conflict || !planned) return reject(c.index, conflict ?? internalPlanGap(feedbackId));
        if (!isPlanned(planned)) return reject(c.index, planned);
        events.push(finalizeFeedbackEvent(c.draft, planned, c.draftValue));
        counts[planned.outcome]++;
        outcomes[c.index] = { ok: true, feedbackId, revision: planned.revision, outcome: planned.outcome };
      });
    }

    try {
      await this.publisher.publish(this.topic, events, ctx);
    } catch (err) {
      if (err instanceof KafkaUnavailableError) this.metrics.publishFailed('feedback');
      throw err;
    }
    this.firstRevisions.record(firstClaims);
    for (const outcome of ['new', 'edit', 'duplicate'] as const)
      this.metrics.accept('feedback', outcome, counts[outcome]);
    return outcomes;
  }

  private prepare(
    item: unknown,
    index: number,
    receivedAt: string,
  ): Candidate | { rejection: ItemRejection } {
    let req = plainFeedbackRequest(item, this.scale);
    if (!req) {
      const parsed = this.schema.safeParse(item);
      if (!parsed.success) return { rejection: zodRejection(parsed.error) };
      req = parsed.data;
    }
    const tooLarge = checkTextLimits([
      {
        path: 'comment',
        value: req.comment,
        limitBytes: this.config.FEEDBACK_MAX_COMMENT_BYTES,
        envVar: 'FEEDBACK_MAX_COMMENT_BYTES',
      },
      {
        path: 'correction',
        value: req.correction,
        limitBytes: this.config.FEEDBACK_MAX_CORRECTION_BYTES,
        envVar: 'FEEDBACK_MAX_CORRECTION_BYTES',
      },
    ]);
    if (tooLarge) return { rejection: tooLarge };
    const issued = req.feedbackId === undefined;
    const feedbackId = req.feedbackId ?? this.ids.next();
    const recognised = !issued && this.ids.isServerIssued(feedbackId);
    if (recognised && uuidv7Time(feedbackId) > Date.now() + this.config.FEEDBACK_ID_MAX_CLOCK_SKEW_MS) {
      return {
        rejection: validationRejection([
          {
            path: 'feedbackId',
            message:
              'a server-issued id whose time is in the future cannot have been issued yet; send the feedbackId the service returned, or your own id',
          },
        ]),
      };
    }
    try {
      const draft = draftFeedbackEvent(req, feedbackId, this.scale, receivedAt, this.redact);
      // Checked on the draft, before a revision is claimed; the final event differs only by the
      // revision number and the small `edit` object, hence the margin.
      const draftValue = serializeEvent(draft);
      const tooBig = checkEventSize(draftValue, this.config.FEEDBACK_MAX_EVENT_BYTES - EDIT_MARGIN_BYTES);
      if (tooBig) return { rejection: tooBig };
      return {
        index,
        feedbackId,
        issued,
        recognised,
        req,
        contentHash: feedbackContentHash(req, this.scale),
        draft,
        draftValue,
      };
    } catch (err) {
      if (isContractValidationError(err)) return { rejection: contractRejection(err) };
      if (err instanceof CanonicalizationError) {
        return {
          rejection: validationRejection([
            {
              path: err.path.replace(/^\$\.?/, ''),
              message: 'expected valid Unicode text (no lone surrogates)',
            },
          ]),
        };
      }
      throw err;
    }
  }
}

function internalPlanGap(feedbackId: string): ItemRejection {
  // Unreachable by construction (every reserved id has a plan or a conflict); fail closed, never publish.
  return { status: 500, code: 'internal_error', message: `no revision plan for ${feedbackId}` };
}

function issuedInThisRequest(feedbackId: string): ItemRejection {
  return {
    status: 409,
    code: 'feedback_id_conflict',
    message: `feedbackId ${feedbackId} was issued to another item of this request; use the id the service returned, or your own`,
    details: { feedbackId },
  };
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
