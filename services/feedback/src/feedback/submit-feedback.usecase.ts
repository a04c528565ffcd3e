import { serializeEvent, TOPICS, topicName } from '@llmops/contracts';
import { CanonicalizationError } from '@llmops/hashing';
import {
  createRedactor,
  eventTime,
  KafkaUnavailableError,
  type Redactor,
  type RequestContext,
  SERVICE_CONFIG,
} from '@llmops/platform';
import { Inject, Injectable } from '@nestjs/common';
import type { FeedbackConfig } from '../config/feedback.config';
import { ExperimentDirectory } from '../experiments/experiment-directory';
import { EventPublisher, type KeyedEvent } from '../ingestion/event-publisher';
import { checkEventSize, checkTextLimits } from '../ingestion/field-limits';
import { IngestionMetrics } from '../ingestion/ingestion.metrics';
import {
  contractRejection,
  experimentNotFound,
  isContractValidationError,
  type ItemRejection,
  validationRejection,
  zodRejection,
} from '../ingestion/item-rejection';
import {
  type RatingScale,
  type SubmitFeedbackRequest,
  submitFeedbackRequestParser,
} from './dto/submit-feedback.request';
import { draftFeedbackEvent, feedbackContentHash, finalizeFeedbackEvent } from './feedback-event';
import { FeedbackRevisions, type Reservation, type RevisionRequest } from './feedback-revisions';
import { isPlanned, type Outcome } from './revision-plan';

export type FeedbackOutcome =
  | { ok: true; feedbackId: string; revision: number; outcome: Outcome }
  | { ok: false; rejection: ItemRejection };

const EDIT_MARGIN_BYTES = 64;

/** A valid item, with its event drafted as a first revision. */
interface Candidate {
  index: number;
  feedbackId: string;
  req: SubmitFeedbackRequest;
  contentHash: string;
  draft: ReturnType<typeof draftFeedbackEvent>;
  /** JSON of `draft` (computed for the size check, reused when the plan leaves it unchanged). */
  draftValue: string;
}

/** The submissions of one feedbackId in a request, in item order. */
interface Chain {
  feedbackId: string;
  /** The service issued `feedbackId` for this item (the client sent none). */
  issued: boolean;
  candidates: Candidate[];
}

/**
 * Feedback intake of one project (single = a batch of one):
 * 1. validate each item (schema, its experiment in the project, text limits, contract), hash its
 *    content and draft its event;
 * 2. group the items by feedbackId (an item without one gets a new id of its own);
 * 3. reserve the revisions (new / duplicate / edit) in FeedbackRevisions before publishing;
 * 4. publish every accepted item in ONE producer send and wait for the broker ack (acks -1);
 * 5. tell FeedbackRevisions the events were acknowledged.
 * A broker failure throws KafkaUnavailableError (503): nothing of the request is promised. The
 * reservations stay; a retry with the same content is then a duplicate of the reserved revision and
 * publishes exactly that event (same id, same value).
 */
@Injectable()
export class SubmitFeedbackUseCase {
  private readonly topic: string;
  private readonly scale: RatingScale;
  private readonly parse: ReturnType<typeof submitFeedbackRequestParser>;
  private readonly redact: Redactor;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: FeedbackConfig,
    private readonly revisions: FeedbackRevisions,
    private readonly publisher: EventPublisher,
    private readonly metrics: IngestionMetrics,
    private readonly experiments: ExperimentDirectory,
  ) {
    this.topic = topicName(TOPICS.feedback, config.KAFKA_TOPIC_PREFIX);
    this.scale = { min: config.FEEDBACK_RATING_MIN, max: config.FEEDBACK_RATING_MAX };
    this.parse = submitFeedbackRequestParser(this.scale);
    this.redact = createRedactor(config.FEEDBACK_REDACT_PII);
  }

  /** The items of `project` (the caller's): its revisions, its experiments, its events. */
  async execute(items: readonly unknown[], ctx: RequestContext, project: string): Promise<FeedbackOutcome[]> {
    const receivedAt = eventTime();
    const outcomes = new Array<FeedbackOutcome>(items.length);
    const candidates = this.validateItems(items, receivedAt, project, outcomes);
    const chains = this.groupByFeedbackId(candidates, outcomes);
    const reservation = await this.reserveRevisions(chains, receivedAt, project);
    const events = this.finalizeEvents(chains, reservation, outcomes);
    await this.publish(events, ctx);
    reservation.acknowledged();
    this.countAccepted(outcomes);
    return outcomes;
  }

  private reject(outcomes: FeedbackOutcome[], index: number, rejection: ItemRejection): void {
    this.metrics.reject('feedback', rejection.code);
    outcomes[index] = { ok: false, rejection };
  }

  private validateItems(
    items: readonly unknown[],
    receivedAt: string,
    project: string,
    outcomes: FeedbackOutcome[],
  ): Candidate[] {
    const candidates: Candidate[] = [];
    items.forEach((item, index) => {
      const candidate = this.validateItem(item, index, receivedAt, project);
      if ('rejection' in candidate) this.reject(outcomes, index, candidate.rejection);
      else candidates.push(candidate);
    });
    return candidates;
  }

  private validateItem(
    item: unknown,
    index: number,
    receivedAt: string,
    project: string,
  ): Candidate | { rejection: ItemRejection } {
    const parsed = this.parse(item);
    if (!parsed.success) return { rejection: zodRejection(parsed.error) };
    const req = parsed.data;
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
    const feedbackId = req.feedbackId ?? this.revisions.issueId();
    try {
      const draft = draftFeedbackEvent(req, feedbackId, this.scale, receivedAt, this.redact, project);
      // Checked on the draft, before a revision is claimed; the final event differs only by the
      // revision number and the small `edit` object, hence the margin.
      const draftValue = serializeEvent(draft);
      const tooBig = checkEventSize(draftValue, this.config.FEEDBACK_MAX_EVENT_BYTES - EDIT_MARGIN_BYTES);
      if (tooBig) return { rejection: tooBig };
      // Last, so that an item gets the same answer for its own faults in every project.
      if (req.experiment !== undefined && !this.experiments.has(project, req.experiment)) {
        return { rejection: experimentNotFound(req.experiment) };
      }
      const contentHash = feedbackContentHash(req, this.scale);
      return { index, feedbackId, req, contentHash, draft, draftValue };
    } catch (err) {
      if (isContractValidationError(err)) return { rejection: contractRejection(err) };
      if (err instanceof CanonicalizationError) return { rejection: invalidUnicode(err) };
      throw err;
    }
  }

  /**
   * One chain per feedbackId. An id issued in this request is its item's alone: a client item
   * naming it can only be a guess (it was never returned to anyone) and is refused, so that one id
   * never has two chains in one plan.
   */
  private groupByFeedbackId(candidates: readonly Candidate[], outcomes: FeedbackOutcome[]): Chain[] {
    const chains: Chain[] = [];
    const clientChains = new Map<string, Chain>();
    const issuedIds = new Set<string>();
    for (const c of candidates) {
      const issued = c.req.feedbackId === undefined;
      if (issued) issuedIds.add(c.feedbackId);
      let chain = issued ? undefined : clientChains.get(c.feedbackId);
      if (!chain) {
        chain = { feedbackId: c.feedbackId, issued, candidates: [] };
        chains.push(chain);
        if (!issued) clientChains.set(c.feedbackId, chain);
      }
      chain.candidates.push(c);
    }
    if (issuedIds.size === 0 || clientChains.size === 0) return chains;
    return chains.filter((chain) => {
      if (chain.issued || !issuedIds.has(chain.feedbackId)) return true;
      for (const c of chain.candidates) this.reject(outcomes, c.index, issuedInThisRequest(chain.feedbackId));
      return false;
    });
  }

  private async reserveRevisions(
    chains: readonly Chain[],
    receivedAt: string,
    project: string,
  ): Promise<Reservation> {
    const requests: RevisionRequest[] = chains.map((chain) => ({
      feedbackId: chain.feedbackId,
      issued: chain.issued,
      submissions: chain.candidates.map((c) => ({
        requestId: c.req.requestId,
        contentHash: c.contentHash,
        timestamp: c.req.timestamp,
      })),
    }));
    const reservation = await this.revisions.reserve(requests, receivedAt, project);
    if (reservation.raceLosses > 0) this.metrics.revisionConflicts.inc(reservation.raceLosses);
    return reservation;
  }

  /** Stamps each planned revision on its draft; items without a plan are rejected. */
  private finalizeEvents(
    chains: readonly Chain[],
    reservation: Reservation,
    outcomes: FeedbackOutcome[],
  ): KeyedEvent[] {
    const events: KeyedEvent[] = [];
    for (const { feedbackId, candidates } of chains) {
      const conflict = reservation.conflicts.get(feedbackId);
      const plan = reservation.plans.get(feedbackId);
      candidates.forEach((c, i) => {
        const planned = plan?.items[i];
        if (conflict || !planned)
          return this.reject(outcomes, c.index, conflict ?? internalPlanGap(feedbackId));
        if (!isPlanned(planned)) return this.reject(outcomes, c.index, planned);
        events.push(finalizeFeedbackEvent(c.draft, planned, c.draftValue));
        outcomes[c.index] = { ok: true, feedbackId, revision: planned.revision, outcome: planned.outcome };
      });
    }
    return events;
  }

  private async publish(events: readonly KeyedEvent[], ctx: RequestContext): Promise<void> {
    try {
      await this.publisher.publish(this.topic, events, ctx);
    } catch (err) {
      if (err instanceof KafkaUnavailableError) this.metrics.publishFailed('feedback');
      throw err;
    }
  }

  private countAccepted(outcomes: readonly FeedbackOutcome[]): void {
    const counts: Record<Outcome, number> = { new: 0, edit: 0, duplicate: 0 };
    for (const o of outcomes) if (o?.ok) counts[o.outcome]++;
    for (const outcome of ['new', 'edit', 'duplicate'] as const)
      this.metrics.accept('feedback', outcome, counts[outcome]);
  }
}

function invalidUnicode(err: CanonicalizationError): ItemRejection {
  return validationRejection([
    { path: err.path.replace(/^\$\.?/, ''), message: 'expected valid Unicode text (no lone surrogates)' },
  ]);
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
