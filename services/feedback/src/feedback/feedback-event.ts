import {
  type CloudEvent,
  createEvent,
  EVENT_SOURCES,
  EVENT_TYPES,
  type FeedbackSubmittedData,
  partitionKeyFor,
  serializeEvent,
} from '@llmops/contracts';
import { canonicalize, sha256Hex } from '@llmops/hashing';
import type { KeyedEvent } from '../ingestion/event-publisher';
import type { Redactor } from '../ingestion/redaction';
import type { RatingScale, SubmitFeedbackRequest } from './dto/submit-feedback.request';
import type { PlannedRevision } from './revision-plan';

type FeedbackEvent = CloudEvent<typeof EVENT_TYPES.feedbackSubmitted>;

/** Deterministic: every (feedbackId, revision) has exactly one id, so retries dedupe downstream. */
export function feedbackEventId(feedbackId: string, revision: number): string {
  return `fb:${feedbackId}:${revision}`;
}

/**
 * The idempotency hash: SHA-256 of the RFC 8785 canonical JSON of everything the client said about
 * this feedback (all fields but feedbackId, before redaction) plus the rating scale it was judged
 * on. Identical -> duplicate; any difference (a signal, the arm, latency, a supplied timestamp)
 * -> edit. Throws CanonicalizationError for text that is not valid Unicode (lone surrogates).
 */
export function feedbackContentHash(req: SubmitFeedbackRequest, scale: RatingScale): string {
  const { feedbackId: _ignored, ...content } = req;
  return sha256Hex(canonicalize({ ...content, ratingScale: scale }));
}

/**
 * Builds and contract-validates the event as a first revision. Run BEFORE the revision is reserved
 * in MongoDB, so an item the contract refuses never claims a revision.
 */
export function draftFeedbackEvent(
  req: SubmitFeedbackRequest,
  feedbackId: string,
  scale: RatingScale,
  receivedAt: string,
  redact: Redactor,
): FeedbackEvent {
  const { feedbackId: _ignored, ...fields } = req;
  const data: FeedbackSubmittedData = {
    ...fields,
    ...(fields.comment !== undefined ? { comment: redact(fields.comment) } : {}),
    ...(fields.correction !== undefined ? { correction: redact(fields.correction) } : {}),
    feedbackId,
    ratingScale: { min: scale.min, max: scale.max },
    timestamp: req.timestamp ?? receivedAt,
    receivedAt,
    revision: 1,
    edit: null,
  };
  return createEvent(EVENT_TYPES.feedbackSubmitted, data, {
    source: EVENT_SOURCES.feedback,
    id: feedbackEventId(feedbackId, 1),
    time: data.timestamp,
  });
}

/**
 * Stamps the planned revision on a validated draft. Only server-owned, already valid values change
 * (revision/edit are consistent by construction), so the contract check is not repeated.
 */
export function finalizeFeedbackEvent(draft: FeedbackEvent, plan: PlannedRevision): KeyedEvent {
  const data: FeedbackSubmittedData = {
    ...draft.data,
    revision: plan.revision,
    edit: plan.previousRevision === null ? null : { previousRevision: plan.previousRevision },
    receivedAt: plan.receivedAt,
    timestamp: plan.timestamp,
  };
  const event: FeedbackEvent = {
    ...draft,
    id: feedbackEventId(data.feedbackId, plan.revision),
    time: plan.timestamp,
    data,
  };
  return { key: partitionKeyFor(EVENT_TYPES.feedbackSubmitted, data), event, value: serializeEvent(event) };
}
