import { EVENT_TYPES, isEventOfType, parseEvent } from '@llmops/contracts';
import { createRedactor } from '../ingestion/redaction';
import { buildSubmitFeedbackRequestSchema, type SubmitFeedbackRequest } from './dto/submit-feedback.request';
import {
  draftFeedbackEvent,
  feedbackContentHash,
  feedbackEventId,
  finalizeFeedbackEvent,
} from './feedback-event';

const scale = { min: 1, max: 5 };
const AT = '2025-03-01T00:00:00.000Z';
const parse = (body: unknown): SubmitFeedbackRequest => buildSubmitFeedbackRequestSchema(scale).parse(body);

describe('feedback events', () => {
  it('ids are deterministic per (feedbackId, revision)', () => {
    expect(feedbackEventId('abc', 2)).toBe('fb:abc:2');
  });

  it('the content hash ignores key order and feedbackId, and sees every other field', () => {
    const a = parse({ feedbackId: 'x', requestId: 'r', rating: 4, scores: { b: 1, a: 2 }, source: 'user' });
    const b = parse({ source: 'user', scores: { a: 2, b: 1 }, rating: 4, requestId: 'r', feedbackId: 'y' });
    expect(feedbackContentHash(a, scale)).toBe(feedbackContentHash(b, scale));
    expect(feedbackContentHash(a, scale)).toMatch(/^[0-9a-f]{64}$/);
    expect(feedbackContentHash({ ...a, rating: 5 }, scale)).not.toBe(feedbackContentHash(a, scale));
    expect(feedbackContentHash({ ...a, arm: 'B' }, scale)).not.toBe(feedbackContentHash(a, scale));
    expect(feedbackContentHash(a, { min: 1, max: 10 })).not.toBe(feedbackContentHash(a, scale));
  });

  it('a finalized edit is a valid contract event, marked as an edit, keyed by requestId', () => {
    const req = parse({
      requestId: 'r',
      thumbs: 'down',
      comment: 'see jane@example.com',
      source: 'reviewer',
    });
    const draft = draftFeedbackEvent(req, 'f', scale, AT, createRedactor(true));
    const keyed = finalizeFeedbackEvent(draft, {
      outcome: 'edit',
      revision: 3,
      previousRevision: 2,
      receivedAt: AT,
      timestamp: AT,
    });
    expect(keyed.key).toBe('r');
    const event = parseEvent(keyed.value);
    if (!isEventOfType(event, EVENT_TYPES.feedbackSubmitted)) throw new Error('wrong type');
    expect(event.id).toBe('fb:f:3');
    expect(event.data).toMatchObject({
      revision: 3,
      edit: { previousRevision: 2 },
      comment: 'see [email]',
      ratingScale: scale,
    });
  });
});

describe('request schema', () => {
  it('follows the configured scale and requires a signal', () => {
    const schema = buildSubmitFeedbackRequestSchema({ min: 0, max: 10 });
    expect(schema.safeParse({ requestId: 'r', rating: 0, source: 'user' }).success).toBe(true);
    expect(schema.safeParse({ requestId: 'r', rating: 11, source: 'user' }).error?.issues[0].message).toBe(
      'expected an integer 0..10',
    );
    expect(schema.safeParse({ requestId: 'r', scores: {}, source: 'user' }).success).toBe(false);
    expect(schema.safeParse({ requestId: 'r', scores: { x: Infinity }, source: 'user' }).success).toBe(false);
  });
});
