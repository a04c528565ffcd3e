import {
  type CloudEvent,
  createEvent,
  EVENT_SOURCES,
  EVENT_TYPES,
  FEEDBACK_COMMENT_MAX_LENGTH,
  FEEDBACK_CORRECTION_MAX_LENGTH,
  type FeedbackSubmittedData,
  partitionKeyFor,
  projectOf,
  serializeEvent,
  trustedEvent,
} from '@llmops/contracts';
import { canonicalize, sha256Hex } from '@llmops/hashing';
import type { Redactor } from '@llmops/platform';
import type { KeyedEvent } from '../ingestion/event-publisher';
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
  return sha256Hex(canonicalFeedbackContent(req, scale));
}

/**
 * Exactly `canonicalize({ ...req, feedbackId: undefined, ratingScale: scale })` (stored claims hold
 * these hashes, so the bytes must never change), written out for the request's fixed shape on the
 * hot path; whatever the general canonicalizer would reject or treat specially goes to it.
 * feedback-event.spec.ts compares both on random requests (README, "Hot paths").
 */
export function canonicalFeedbackContent(req: SubmitFeedbackRequest, scale: RatingScale): string {
  return (
    fastCanonicalContent(req, scale) ?? canonicalize({ ...req, feedbackId: undefined, ratingScale: scale })
  );
}

const SURROGATE = /[\uD800-\uDFFF]/;

/** Undefined when the general canonicalizer must decide. Member order: RFC 8785 (UTF-16 units). */
function fastCanonicalContent(req: SubmitFeedbackRequest, scale: RatingScale): string | undefined {
  let out = '{';
  const str = (key: string, value: string | undefined): boolean => {
    if (value === undefined) return true;
    if (SURROGATE.test(value)) return false;
    out += `${out.length > 1 ? ',' : ''}"${key}":${JSON.stringify(value)}`;
    return true;
  };
  const num = (key: string, value: number | undefined): boolean => {
    if (value === undefined) return true;
    if (!Number.isFinite(value)) return false;
    out += `${out.length > 1 ? ',' : ''}"${key}":${JSON.stringify(value)}`;
    return true;
  };
  if (
    !str('arm', req.arm) ||
    !str('comment', req.comment) ||
    !str('correction', req.correction) ||
    !str('experiment', req.experiment) ||
    !num('latencyMs', req.latencyMs) ||
    !num('rating', req.rating) ||
    !Number.isFinite(scale.max) ||
    !Number.isFinite(scale.min)
  ) {
    return undefined;
  }
  out += `${out.length > 1 ? ',' : ''}"ratingScale":{"max":${JSON.stringify(scale.max)},"min":${JSON.stringify(scale.min)}}`;
  if (!str('requestId', req.requestId)) return undefined;
  const { scores } = req;
  if (scores !== undefined) {
    const proto: unknown = Object.getPrototypeOf(scores);
    if (proto !== Object.prototype && proto !== null) return undefined;
    if (Object.getOwnPropertySymbols(scores).length > 0) return undefined;
    let members = '';
    // Default sort: UTF-16 code units, as RFC 8785 orders member names.
    for (const name of Object.keys(scores).sort()) {
      const value = scores[name];
      if (value === undefined) continue;
      if (!Number.isFinite(value) || SURROGATE.test(name)) return undefined;
      members += `${members ? ',' : ''}${JSON.stringify(name)}:${JSON.stringify(value)}`;
    }
    out += `,"scores":{${members}}`;
  }
  if (
    !str('source', req.source) ||
    !str('thumbs', req.thumbs) ||
    !str('timestamp', req.timestamp) ||
    !str('userId', req.userId)
  ) {
    return undefined;
  }
  return `${out}}`;
}

const TYPE = EVENT_TYPES.feedbackSubmitted;

/**
 * Builds the event of `project` as a first revision, before the revision is reserved, so an item
 * the contract refuses never claims one. The envelope is built with `trustedEvent`: a request that
 * passed its schema satisfies every data rule of the contract except the length caps of `comment`
 * and `correction`, which redaction can change, so items over them take the validating
 * `createEvent`. feedback-event.spec.ts compares the drafts with `createEvent`'s byte for byte
 * (README, "Hot paths").
 */
export function draftFeedbackEvent(
  req: SubmitFeedbackRequest,
  feedbackId: string,
  scale: RatingScale,
  receivedAt: string,
  redact: Redactor,
  project: string,
): FeedbackEvent {
  // Fields in the contract's order, as createEvent's parse outputs them: a retry re-publishes the
  // same bytes even across versions of this service. Absent optional fields stay undefined, which
  // JSON omits (feedback-event.spec.ts compares the serialized bytes with createEvent's).
  const data: FeedbackSubmittedData = {
    feedbackId,
    requestId: req.requestId,
    experiment: req.experiment,
    arm: req.arm,
    userId: req.userId,
    rating: req.rating,
    ratingScale: { min: scale.min, max: scale.max },
    thumbs: req.thumbs,
    comment: req.comment === undefined ? undefined : redact(req.comment),
    correction: req.correction === undefined ? undefined : redact(req.correction),
    scores: req.scores,
    source: req.source,
    latencyMs: req.latencyMs,
    timestamp: req.timestamp ?? receivedAt,
    receivedAt,
    revision: 1,
    edit: null,
  };
  const id = feedbackEventId(feedbackId, 1);
  if (
    (data.comment?.length ?? 0) > FEEDBACK_COMMENT_MAX_LENGTH ||
    (data.correction?.length ?? 0) > FEEDBACK_CORRECTION_MAX_LENGTH
  ) {
    return createEvent(TYPE, data, { source: EVENT_SOURCES.feedback, id, time: data.timestamp, project });
  }
  return trustedEvent(TYPE, data, { source: EVENT_SOURCES.feedback, id, time: data.timestamp, project });
}

/**
 * Stamps the planned revision on a validated draft. Only server-owned, already valid values change
 * (revision/edit are consistent by construction), so the contract check is not repeated. When the
 * plan changes nothing (a new first revision, the common case), `draftValue`, the draft's JSON
 * already computed for the size check, is reused instead of serializing again.
 */
export function finalizeFeedbackEvent(
  draft: FeedbackEvent,
  plan: PlannedRevision,
  draftValue?: string,
): KeyedEvent {
  const unchanged =
    plan.revision === 1 &&
    plan.previousRevision === null &&
    plan.receivedAt === draft.data.receivedAt &&
    plan.timestamp === draft.data.timestamp;
  if (unchanged && draftValue !== undefined) {
    return { key: partitionKeyFor(TYPE, draft.data, projectOf(draft)), event: draft, value: draftValue };
  }
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
  return { key: partitionKeyFor(TYPE, data, projectOf(event)), event, value: serializeEvent(event) };
}
