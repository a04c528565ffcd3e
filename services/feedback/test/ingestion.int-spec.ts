import { EVENT_TYPES, isEventOfType, parseEvent, TOPICS, topicName } from '@llmops/contracts';
import { testInfra } from '@llmops/testing';
import { randomUUID } from 'node:crypto';
import { readTopic, startFeedbackApp, type FeedbackTestApp, type TopicRecord } from './support/feedback-app';

const infra = testInfra();
let t: FeedbackTestApp;
const generationsTopic = topicName(TOPICS.generations, infra.topicPrefix);
const feedbackTopic = topicName(TOPICS.feedback, infra.topicPrefix);

beforeAll(async () => {
  t = await startFeedbackApp(
    {
      KAFKA_BROKERS: infra.kafkaBrokers,
      MONGODB_URI: infra.mongoUri,
      MONGODB_DB: infra.dbName,
      KAFKA_TOPIC_PREFIX: infra.topicPrefix,
      KAFKA_PRODUCER_LINGER_MS: '2',
    },
    { experiments: ['summarizer-prompt'] },
  );
});

afterAll(async () => {
  await t?.close();
});

function generation(requestId: string, extra: Record<string, unknown> = {}) {
  return {
    requestId,
    experiment: 'summarizer-prompt',
    arm: 'B',
    userId: 'user_101',
    prompt: { name: 'summarizer', hash: 'a'.repeat(64) },
    model: 'gpt-4o-mini',
    input: [{ role: 'user', content: 'Summarize: the cat sat on the mat' }],
    output: 'A cat sat on a mat.',
    latencyMs: 820,
    usage: { promptTokens: 12, completionTokens: 7 },
    costUsd: 0.0023,
    metadata: { region: 'eu' },
    ...extra,
  };
}

const byRequest = (records: TopicRecord[], requestId: string) => records.filter((r) => r.key === requestId);

describe('round trip', () => {
  it('publishes a generation as a valid CloudEvent keyed by requestId', async () => {
    const requestId = randomUUID();
    const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const res = await t.post('/v1/generations', generation(requestId), {
      'x-correlation-id': `corr-${requestId}`,
      traceparent: parent,
    });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ requestId });

    const records = await readTopic(
      infra.kafkaBrokers,
      generationsTopic,
      (r) => byRequest(r, requestId).length > 0,
    );
    const [record] = byRequest(records, requestId);
    expect(record.headers['content-type']).toBe('application/cloudevents+json');
    // The request's context: its correlation id, and a span of the caller's trace.
    expect(record.headers['x-correlation-id']).toBe(`corr-${requestId}`);
    expect(record.headers.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    const event = parseEvent(record.value);
    expect(event.type).toBe(EVENT_TYPES.generationLogged);
    expect(event.id).toBe(`gen:${requestId}`);
    expect(event.source).toBe('/llmops/feedback');
    if (!isEventOfType(event, EVENT_TYPES.generationLogged)) throw new Error('wrong type');
    expect(event.data).toMatchObject({
      requestId,
      model: 'gpt-4o-mini',
      output: 'A cat sat on a mat.',
      latencyMs: 820,
    });
    expect(event.data.timestamp).toBe(event.data.receivedAt);
  });

  it('publishes feedback as a valid CloudEvent, co-keyed with its generation', async () => {
    const requestId = randomUUID();
    expect((await t.post('/v1/generations', generation(requestId))).status).toBe(202);
    const res = await t.post(
      '/v1/feedback',
      {
        requestId,
        experiment: 'summarizer-prompt',
        arm: 'B',
        rating: 4,
        thumbs: 'up',
        comment: 'good',
        scores: { hallucination: 0.03, relevance: 0.9 },
        source: 'user',
        latencyMs: 820,
        timestamp: '2025-01-31T12:00:00.000Z',
      },
      { 'x-correlation-id': `corr-fb-${requestId}` },
    );
    expect(res.status).toBe(202);
    const { feedbackId, revision, outcome } = res.body as {
      feedbackId: string;
      revision: number;
      outcome: string;
    };
    expect(feedbackId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect([revision, outcome]).toEqual([1, 'new']);

    const fb = await readTopic(infra.kafkaBrokers, feedbackTopic, (r) => byRequest(r, requestId).length > 0);
    const gen = await readTopic(
      infra.kafkaBrokers,
      generationsTopic,
      (r) => byRequest(r, requestId).length > 0,
    );
    expect(byRequest(fb, requestId)[0].headers['x-correlation-id']).toBe(`corr-fb-${requestId}`);
    const event = parseEvent(byRequest(fb, requestId)[0].value);
    if (!isEventOfType(event, EVENT_TYPES.feedbackSubmitted)) throw new Error('wrong type');
    expect(event.id).toBe(`fb:${feedbackId}:1`);
    expect(event.data).toMatchObject({
      feedbackId,
      requestId,
      rating: 4,
      ratingScale: { min: 1, max: 5 },
      thumbs: 'up',
      scores: { hallucination: 0.03, relevance: 0.9 },
      source: 'user',
      timestamp: '2025-01-31T12:00:00.000Z',
      revision: 1,
      edit: null,
    });
    // Same key and partition count: the generation and its feedback share a partition number.
    expect(byRequest(fb, requestId)[0].partition).toBe(byRequest(gen, requestId)[0].partition);
  });
});

describe('retries and edits', () => {
  it('a retried feedbackId is a duplicate with the same event id and the same value; an edit is marked', async () => {
    const requestId = randomUUID();
    const feedbackId = `fb-${randomUUID()}`;
    const body = { feedbackId, requestId, rating: 2, source: 'user' };
    const first = await t.post('/v1/feedback', body);
    const retry = await t.post('/v1/feedback', body);
    expect(first.body).toEqual({ feedbackId, revision: 1, outcome: 'new' });
    expect(retry.status).toBe(202);
    expect(retry.body).toEqual({ feedbackId, revision: 1, outcome: 'duplicate' });
    const edit = await t.post('/v1/feedback', { ...body, rating: 5, comment: 'changed my mind' });
    expect(edit.status).toBe(202);
    expect(edit.body).toEqual({ feedbackId, revision: 2, outcome: 'edit' });
    // A retry of the edit repeats revision 2; going back to the first content is a new edit (3).
    expect(
      (await t.post('/v1/feedback', { ...body, rating: 5, comment: 'changed my mind' })).body,
    ).toMatchObject({
      revision: 2,
      outcome: 'duplicate',
    });
    expect((await t.post('/v1/feedback', body)).body).toMatchObject({ revision: 3, outcome: 'edit' });

    const records = await readTopic(
      infra.kafkaBrokers,
      feedbackTopic,
      (r) => byRequest(r, requestId).length >= 5,
    );
    const mine = byRequest(records, requestId);
    expect(mine).toHaveLength(5);
    const events = mine.map((r) => parseEvent(r.value));
    expect(events.map((e) => e.id)).toEqual([
      `fb:${feedbackId}:1`,
      `fb:${feedbackId}:1`,
      `fb:${feedbackId}:2`,
      `fb:${feedbackId}:2`,
      `fb:${feedbackId}:3`,
    ]);
    // Byte-identical values for the duplicates: downstream dedup by id loses nothing.
    expect(mine[1].value).toBe(mine[0].value);
    expect(mine[3].value).toBe(mine[2].value);
    const [e1, , e2, , e3] = events;
    if (
      !isEventOfType(e2, EVENT_TYPES.feedbackSubmitted) ||
      !isEventOfType(e3, EVENT_TYPES.feedbackSubmitted)
    ) {
      throw new Error('wrong type');
    }
    if (!isEventOfType(e1, EVENT_TYPES.feedbackSubmitted)) throw new Error('wrong type');
    expect(e1.data.edit).toBeNull();
    expect(e2.data).toMatchObject({
      revision: 2,
      edit: { previousRevision: 1 },
      rating: 5,
      comment: 'changed my mind',
    });
    expect(e3.data).toMatchObject({ revision: 3, edit: { previousRevision: 2 }, rating: 2 });
    expect(e3.data.comment).toBeUndefined();
  });

  it('a retried generation yields the same event id', async () => {
    const requestId = randomUUID();
    const body = generation(requestId, { timestamp: '2025-02-01T00:00:00.000Z' });
    expect((await t.post('/v1/generations', body)).status).toBe(202);
    expect((await t.post('/v1/generations', body)).status).toBe(202);
    const records = await readTopic(
      infra.kafkaBrokers,
      generationsTopic,
      (r) => byRequest(r, requestId).length >= 2,
    );
    expect(byRequest(records, requestId).map((r) => parseEvent(r.value).id)).toEqual([
      `gen:${requestId}`,
      `gen:${requestId}`,
    ]);
  });

  it('concurrent different edits of one feedbackId get distinct revisions (no id carries two values)', async () => {
    const requestId = randomUUID();
    const feedbackId = `fb-${randomUUID()}`;
    const results = await Promise.all(
      [1, 2, 3, 4, 5].map((rating) =>
        t.post('/v1/feedback', { feedbackId, requestId, rating, source: 'judge' }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual([202, 202, 202, 202, 202]);
    const revisions = results.map((r) => (r.body as { revision: number }).revision).sort();
    expect(revisions).toEqual([1, 2, 3, 4, 5]);
    const records = await readTopic(
      infra.kafkaBrokers,
      feedbackTopic,
      (r) => byRequest(r, requestId).length >= 5,
    );
    const valueById = new Map<string, string>();
    for (const r of byRequest(records, requestId)) {
      const id = parseEvent(r.value).id;
      expect(valueById.get(id) ?? r.value).toBe(r.value);
      valueById.set(id, r.value);
    }
    expect(valueById.size).toBe(5);
  });

  it('refuses to move a feedbackId to another requestId (409)', async () => {
    const feedbackId = `fb-${randomUUID()}`;
    expect(
      (await t.post('/v1/feedback', { feedbackId, requestId: 'r-1', thumbs: 'up', source: 'user' })).status,
    ).toBe(202);
    const res = await t.post('/v1/feedback', { feedbackId, requestId: 'r-2', thumbs: 'up', source: 'user' });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error: { code: 'feedback_id_conflict' } });
  });
});

describe('batches', () => {
  it('accepts the valid feedback items, reports the invalid ones by index, publishes only the valid', async () => {
    const requestId = randomUUID();
    const items = [
      { requestId, rating: 5, source: 'user' },
      { requestId, rating: 9, source: 'user' },
      { requestId, thumbs: 'down', source: 'reviewer', bogus: true },
      { feedbackId: `fb-${randomUUID()}`, requestId, scores: { relevance: 0.5 }, source: 'judge' },
      { requestId, source: 'user' },
    ];
    const res = await t.post(
      '/v1/feedback/batch',
      { items },
      { 'x-correlation-id': `corr-batch-${requestId}` },
    );
    expect(res.status).toBe(202);
    const body = res.body as {
      accepted: string[];
      rejected: { index: number; code: string; message: string }[];
    };
    expect(body.accepted).toHaveLength(2);
    expect(body.accepted[1]).toBe(items[3].feedbackId);
    expect(body.rejected).toEqual([
      {
        index: 1,
        code: 'validation_failed',
        message: 'rating: expected an integer 1..5',
        issues: [{ path: 'rating', message: 'expected an integer 1..5' }],
      },
      {
        index: 2,
        code: 'validation_failed',
        message: 'bogus: unknown field',
        issues: [{ path: 'bogus', message: 'unknown field' }],
      },
      expect.objectContaining({ index: 4, code: 'validation_failed' }),
    ]);
    const records = await readTopic(
      infra.kafkaBrokers,
      feedbackTopic,
      (r) => byRequest(r, requestId).length >= 2,
    );
    const ids = byRequest(records, requestId).map((r) => parseEvent(r.value).id);
    expect(ids.sort()).toEqual(body.accepted.map((id) => `fb:${id}:1`).sort());
    // One request, one context: every event of the batch carries its correlation id.
    for (const r of byRequest(records, requestId))
      expect(r.headers['x-correlation-id']).toBe(`corr-batch-${requestId}`);
  });

  it('accepts valid generation items and reports invalid ones; all invalid -> 400 with the same shape', async () => {
    const a = randomUUID();
    const b = randomUUID();
    const res = await t.post('/v1/generations/batch', {
      items: [generation(a), generation('x', { latencyMs: -1 }), generation(b, { output: 42 })],
    });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      accepted: [a],
      rejected: [
        {
          index: 1,
          code: 'validation_failed',
          message: 'latencyMs: expected a finite number between 0 and 86400000',
        },
        { index: 2, code: 'validation_failed' },
      ],
    });
    const none = await t.post('/v1/generations/batch', { items: [{ requestId: 'x' }] });
    expect(none.status).toBe(400);
    expect(none.body).toMatchObject({
      accepted: [],
      rejected: [{ index: 0 }],
      error: { code: 'batch_rejected' },
    });
    const records = await readTopic(infra.kafkaBrokers, generationsTopic, (r) => byRequest(r, a).length > 0);
    expect(byRequest(records, a)).toHaveLength(1);
  });

  it('same feedbackId twice in one batch: duplicate or chained edit', async () => {
    const requestId = randomUUID();
    const feedbackId = `fb-${randomUUID()}`;
    const res = await t.post('/v1/feedback/batch', {
      items: [
        { feedbackId, requestId, rating: 1, source: 'user' },
        { feedbackId, requestId, rating: 1, source: 'user' },
        { feedbackId, requestId, rating: 3, source: 'user' },
      ],
    });
    expect(res.status).toBe(202);
    const again = await t.post('/v1/feedback', { feedbackId, requestId, rating: 3, source: 'user' });
    expect(again.body).toEqual({ feedbackId, revision: 2, outcome: 'duplicate' });
    const records = await readTopic(
      infra.kafkaBrokers,
      feedbackTopic,
      (r) => byRequest(r, requestId).length >= 4,
    );
    expect(byRequest(records, requestId).map((r) => parseEvent(r.value).id)).toEqual([
      `fb:${feedbackId}:1`,
      `fb:${feedbackId}:1`,
      `fb:${feedbackId}:2`,
      `fb:${feedbackId}:2`,
    ]);
  });
});
