import {
  COST_USD_MAX,
  EVENT_TYPES,
  isEventOfType,
  LATENCY_MS_MAX,
  parseEvent,
  SCORE_ABS_MAX,
  TOKEN_COUNT_MAX,
  TOPICS,
  topicName,
} from '@llmops/contracts';
import { testInfra } from '@llmops/testing';
import { randomUUID } from 'node:crypto';
import { readTopic, startFeedbackApp, type FeedbackTestApp } from './support/feedback-app';

const infra = testInfra();
const baseEnv = {
  KAFKA_BROKERS: infra.kafkaBrokers,
  MONGODB_URI: infra.mongoUri,
  MONGODB_DB: infra.dbName,
  KAFKA_TOPIC_PREFIX: infra.topicPrefix,
};
let t: FeedbackTestApp;

beforeAll(async () => {
  t = await startFeedbackApp(baseEnv);
});
afterAll(async () => {
  await t?.close();
});

const feedback = (extra: Record<string, unknown> = {}) => ({
  requestId: randomUUID(),
  rating: 3,
  source: 'user',
  ...extra,
});
const generation = (extra: Record<string, unknown> = {}) => ({
  requestId: randomUUID(),
  model: 'm',
  output: 'o',
  latencyMs: 1,
  ...extra,
});
const issuesOf = (body: unknown) =>
  (body as { error: { details: { issues: unknown[] } } }).error.details.issues;

describe('400 with path-level messages', () => {
  it.each([
    ['unknown top-level field', feedback({ stars: 5 }), [{ path: 'stars', message: 'unknown field' }]],
    [
      'rating above the scale',
      feedback({ rating: 6 }),
      [{ path: 'rating', message: 'expected an integer 1..5' }],
    ],
    [
      'rating below the scale',
      feedback({ rating: 0 }),
      [{ path: 'rating', message: 'expected an integer 1..5' }],
    ],
    [
      'non-integer rating',
      feedback({ rating: 3.5 }),
      [{ path: 'rating', message: 'expected an integer 1..5' }],
    ],
    [
      'negative latency',
      feedback({ latencyMs: -3 }),
      [{ path: 'latencyMs', message: `expected a finite number between 0 and ${LATENCY_MS_MAX}` }],
    ],
    [
      'bad thumbs',
      feedback({ thumbs: 'sideways' }),
      [{ path: 'thumbs', message: 'expected one of up, down' }],
    ],
    [
      'bad source',
      feedback({ source: 'bot' }),
      [{ path: 'source', message: 'expected one of user, judge, reviewer' }],
    ],
    [
      'no signal',
      { requestId: 'r', source: 'user' },
      [
        {
          path: '',
          message: 'expected at least one signal: rating, thumbs, comment, correction or a non-empty scores',
        },
      ],
    ],
  ])('feedback: %s', async (_name, body, issues) => {
    const res = await t.post('/v1/feedback', body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { code: 'validation_failed' } });
    expect(issuesOf(res.body)).toEqual(issues);
  });

  it('a non-finite score (1e999 parses to Infinity) is refused with its path', async () => {
    const raw = `{"requestId":"r","source":"judge","scores":{"relevance":1e999}}`;
    const res = await t.postRaw('/v1/feedback', raw);
    expect(res.status).toBe(400);
    expect(issuesOf(res.body)).toEqual([
      {
        path: 'scores.relevance',
        message: `expected a finite number between -${SCORE_ABS_MAX} and ${SCORE_ABS_MAX}`,
      },
    ]);
  });

  it.each([
    [
      'negative cost',
      generation({ costUsd: -0.01 }),
      [{ path: 'costUsd', message: `expected a finite number between 0 and ${COST_USD_MAX}` }],
    ],
    [
      'negative latency',
      generation({ latencyMs: -1 }),
      [{ path: 'latencyMs', message: `expected a finite number between 0 and ${LATENCY_MS_MAX}` }],
    ],
    [
      'unknown nested field',
      generation({ usage: { promptTokens: 1, completionTokens: 1, total: 2 } }),
      [{ path: 'usage.total', message: 'unknown field' }],
    ],
    [
      'bad message role',
      generation({ input: [{ role: 'robot', content: 'x' }] }),
      [{ path: 'input', message: 'expected a string or an array of { role, content } messages' }],
    ],
  ])('generation: %s', async (_name, body, issues) => {
    const res = await t.post('/v1/generations', body);
    expect(res.status).toBe(400);
    expect(issuesOf(res.body)).toEqual(issues);
  });

  it.each(['/v1/feedback', '/v1/generations', '/v1/feedback/batch', '/v1/generations/batch'])(
    'malformed JSON on %s is a 400 invalid_json, never a 500',
    async (url) => {
      for (const raw of ['{"requestId": ', '{]', 'nul']) {
        const res = await t.postRaw(url, raw);
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ error: { code: 'invalid_json' } });
      }
    },
  );

  it('a form-encoded body, which a browser sends cross-site without a preflight, is a 415', async () => {
    const res = await t.postRaw(
      '/v1/feedback',
      'requestId=r&rating=4&source=user',
      'application/x-www-form-urlencoded',
    );
    expect(res.status).toBe(415);
    expect(res.body).toMatchObject({
      error: { code: 'unsupported_media_type', message: 'Send the body as application/json.' },
    });
  });

  it('a body of another type is a 415 unsupported_media_type naming the type to send', async () => {
    const res = await t.postRaw('/v1/feedback', '<feedback/>', 'application/xml');
    expect(res.status).toBe(415);
    expect(res.body).toMatchObject({
      error: { code: 'unsupported_media_type', message: 'Send the body as application/json.' },
    });
  });

  it('a batch envelope must be { items: [...] } with at least one item', async () => {
    expect((await t.post('/v1/feedback/batch', [feedback()])).status).toBe(400);
    expect((await t.post('/v1/feedback/batch', { items: [] })).status).toBe(400);
    expect(issuesOf((await t.post('/v1/feedback/batch', { items: [feedback()], extra: 1 })).body)).toEqual([
      { path: 'extra', message: 'unknown field' },
    ]);
  });
});

describe('numeric bounds, ids and text', () => {
  const pathsOf = (body: unknown) => (issuesOf(body) as Array<{ path: string }>).map((i) => i.path);

  it.each([
    [
      'a score of 1e200 (its square overflows)',
      feedback({ source: 'judge', scores: { s: 1e200 } }),
      'scores.s',
    ],
    ['a score beyond SCORE_ABS_MAX', feedback({ scores: { s: -SCORE_ABS_MAX - 1 } }), 'scores.s'],
    ['a latency beyond LATENCY_MS_MAX', feedback({ latencyMs: 1e308 }), 'latencyMs'],
    ['NUL in requestId', feedback({ requestId: 'r\u0000' }), 'requestId'],
    ['a C1 control in feedbackId', feedback({ feedbackId: 'f\u0085' }), 'feedbackId'],
    ['a tab in userId', feedback({ userId: 'u\t1' }), 'userId'],
    ['a lone surrogate in feedbackId', feedback({ feedbackId: 'f\ud800' }), 'feedbackId'],
    ['a lone surrogate in a comment', feedback({ comment: 'nice \udc00' }), 'comment'],
    ['an arm name off the pattern', feedback({ arm: 'A B' }), 'arm'],
    ['a score name off the pattern', feedback({ scores: { _s: 1 } }), 'scores._s'],
  ])('feedback: %s is a 400 naming the field', async (_name, body, path) => {
    const res = await t.post('/v1/feedback', body);
    expect([res.status, pathsOf(res.body)]).toEqual([400, [path]]);
  });

  it.each([
    ['a cost of 1e300', generation({ costUsd: 1e300 }), 'costUsd'],
    ['a latency of 1e300', generation({ latencyMs: 1e300 }), 'latencyMs'],
    [
      'a token count beyond TOKEN_COUNT_MAX',
      generation({ usage: { promptTokens: TOKEN_COUNT_MAX + 1, completionTokens: 1 } }),
      'usage.promptTokens',
    ],
    [
      'a fractional token count',
      generation({ usage: { promptTokens: 1, completionTokens: 1.5 } }),
      'usage.completionTokens',
    ],
    ['NUL in requestId', generation({ requestId: '\u0000' }), 'requestId'],
    ['a model name with a space', generation({ model: 'gpt 4' }), 'model'],
    ['a lone surrogate in the output', generation({ output: 'o\ud800' }), 'output'],
    // The body check names a key it cannot print as written with an escape.
    [
      'a lone surrogate in a metadata key',
      generation({ metadata: { 'k\udbff': 1 } }),
      expect.stringMatching(/^metadata\.k/),
    ],
    ['a lone surrogate in a metadata value', generation({ metadata: { k: ['\udfff'] } }), 'metadata.k.0'],
  ])('generation: %s is a 400 naming the field', async (_name, body, path) => {
    const res = await t.post('/v1/generations', body);
    expect([res.status, pathsOf(res.body)]).toEqual([400, [path]]);
  });

  it('accepts values at the bounds, and any Unicode user id', async () => {
    const fb = await t.post(
      '/v1/feedback',
      feedback({
        latencyMs: LATENCY_MS_MAX,
        scores: { s: SCORE_ABS_MAX, 'judge.v2:tone': -SCORE_ABS_MAX },
        userId: 'ü 日\u{1F600}',
      }),
    );
    expect(fb.status).toBe(202);
    const gen = await t.post(
      '/v1/generations',
      generation({
        latencyMs: LATENCY_MS_MAX,
        costUsd: COST_USD_MAX,
        usage: { promptTokens: TOKEN_COUNT_MAX, completionTokens: 0 },
        model: 'openai/gpt-4o-mini@2024:x',
      }),
    );
    expect(gen.status).toBe(202);
  });

  it('feedback ids that differ only in a lone surrogate are refused, never merged into one item', async () => {
    const id = `fb-${randomUUID()}`;
    const requestId = randomUUID();
    for (const bad of [`${id}\ud800`, `${id}\udbff`, `${id}\udc00`]) {
      const res = await t.postRaw(
        '/v1/feedback',
        JSON.stringify({ feedbackId: bad, requestId, rating: 2, source: 'user' }),
      );
      expect([res.status, pathsOf(res.body)]).toEqual([400, ['feedbackId']]);
    }
    const first = await t.post('/v1/feedback', { feedbackId: id, requestId, rating: 4, source: 'user' });
    expect([first.status, first.body]).toEqual([202, { feedbackId: id, revision: 1, outcome: 'new' }]);
  });
});

describe('413 over limits', () => {
  it('a single request over 1 MiB is refused; the same body size passes the batch route', async () => {
    const big = generation({ metadata: { blob: 'x'.repeat(1024 * 1024) } });
    const single = await t.post('/v1/generations', big);
    expect(single.status).toBe(413);
    expect(single.body).toMatchObject({ error: { code: 'payload_too_large' } });
    // ~1.5 MiB batch body: parsed (no 413); the invalid big items are rejected per index, the small one accepted.
    const invalidBig = generation({ latencyMs: -1, output: 'x'.repeat(500 * 1024) });
    const batch = await t.post('/v1/generations/batch', {
      items: [invalidBig, invalidBig, invalidBig, generation()],
    });
    expect(batch.status).toBe(202);
    expect(batch.body).toMatchObject({ rejected: [{ index: 0 }, { index: 1 }, { index: 2 }] });
  });

  it('an event that cannot fit in a Kafka record batch is refused up front (413 event_too_large), not a 503', async () => {
    const res = await t.post('/v1/generations/batch', {
      items: [generation({ metadata: { blob: 'x'.repeat(1024 * 1024) } }), generation()],
    });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ rejected: [{ index: 0, code: 'event_too_large' }] });
  });

  it('a batch over 10 MiB is refused', async () => {
    const items = Array.from({ length: 11 }, () =>
      generation({ metadata: { blob: 'y'.repeat(1024 * 1024) } }),
    );
    const res = await t.post('/v1/generations/batch', { items });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ error: { code: 'payload_too_large' } });
  });

  it('more than 1,000 items is refused', async () => {
    const res = await t.post('/v1/feedback/batch', { items: Array.from({ length: 1001 }, () => feedback()) });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ error: { code: 'too_many_items' } });
  });

  it('comment and correction over 32 KiB, output over 256 KiB: 413 field_too_large (bytes, not characters)', async () => {
    const comment = await t.post('/v1/feedback', feedback({ comment: 'é'.repeat(16 * 1024 + 1) }));
    expect(comment.status).toBe(413);
    expect(comment.body).toMatchObject({
      error: {
        code: 'field_too_large',
        details: { path: 'comment', bytes: 32 * 1024 + 2, limitBytes: 32 * 1024 },
      },
    });
    const correction = await t.post('/v1/feedback', feedback({ correction: 'c'.repeat(32 * 1024 + 1) }));
    expect(correction.body).toMatchObject({
      error: { code: 'field_too_large', details: { path: 'correction' } },
    });
    const output = await t.post('/v1/generations', generation({ output: 'o'.repeat(256 * 1024 + 1) }));
    expect(output.status).toBe(413);
    expect(output.body).toMatchObject({ error: { code: 'field_too_large', details: { path: 'output' } } });
    // At the limit is accepted.
    expect((await t.post('/v1/generations', generation({ output: 'o'.repeat(256 * 1024) }))).status).toBe(
      202,
    );
    // In a batch the oversized item is rejected by index, the others accepted.
    const batch = await t.post('/v1/feedback/batch', {
      items: [feedback(), feedback({ correction: 'c'.repeat(40_000) })],
    });
    expect(batch.status).toBe(202);
    expect(batch.body).toMatchObject({ rejected: [{ index: 1, code: 'field_too_large' }] });
  });
});

describe('configuration', () => {
  it('limits and the rating scale follow the config; redaction masks PII in events when enabled', async () => {
    const custom = await startFeedbackApp({
      ...baseEnv,
      FEEDBACK_RATING_MIN: '0',
      FEEDBACK_RATING_MAX: '10',
      FEEDBACK_MAX_COMMENT_BYTES: '64',
      FEEDBACK_MAX_BATCH_ITEMS: '2',
      FEEDBACK_REDACT_PII: 'true',
    });
    try {
      expect((await custom.post('/v1/feedback', feedback({ rating: 11 }))).body).toMatchObject({
        error: { details: { issues: [{ path: 'rating', message: 'expected an integer 0..10' }] } },
      });
      expect((await custom.post('/v1/feedback', feedback({ comment: 'z'.repeat(65) }))).status).toBe(413);
      expect(
        (await custom.post('/v1/feedback/batch', { items: [feedback(), feedback(), feedback()] })).status,
      ).toBe(413);

      const requestId = randomUUID();
      const comment = 'mail me: jane.doe@example.com or +1 (555) 123-4567';
      const res = await custom.post('/v1/feedback', feedback({ requestId, rating: 10, comment }));
      expect(res.status).toBe(202);
      const gen = await custom.post(
        '/v1/generations',
        generation({ requestId, input: 'I am bob@corp.io', output: 'call 020 7946 0958' }),
      );
      expect(gen.status).toBe(202);
      const fb = await readTopic(infra.kafkaBrokers, topicName(TOPICS.feedback, infra.topicPrefix), (r) =>
        r.some((x) => x.key === requestId),
      );
      const event = parseEvent(fb.find((x) => x.key === requestId)!.value);
      if (!isEventOfType(event, EVENT_TYPES.feedbackSubmitted)) throw new Error('wrong type');
      expect(event.data.comment).toBe('mail me: [email] or [phone]');
      expect(event.data.ratingScale).toEqual({ min: 0, max: 10 });
      const gens = await readTopic(
        infra.kafkaBrokers,
        topicName(TOPICS.generations, infra.topicPrefix),
        (r) => r.some((x) => x.key === requestId),
      );
      const genEvent = parseEvent(gens.find((x) => x.key === requestId)!.value);
      if (!isEventOfType(genEvent, EVENT_TYPES.generationLogged)) throw new Error('wrong type');
      expect([genEvent.data.input, genEvent.data.output]).toEqual(['I am [email]', 'call [phone]']);
    } finally {
      await custom.close();
    }
  });

  it('without redaction (the default) text passes unchanged', async () => {
    const requestId = randomUUID();
    expect((await t.post('/v1/feedback', feedback({ requestId, comment: 'jane@example.com' }))).status).toBe(
      202,
    );
    const fb = await readTopic(infra.kafkaBrokers, topicName(TOPICS.feedback, infra.topicPrefix), (r) =>
      r.some((x) => x.key === requestId),
    );
    expect(fb.find((x) => x.key === requestId)!.value).toContain('jane@example.com');
  });
});

describe('OpenAPI', () => {
  it('documents the four ingestion routes (direct fastify routes) with their request schemas and answers', async () => {
    const fastify = t.app.getHttpAdapter().getInstance();
    const doc = (await fastify.inject({ method: 'GET', url: '/docs-json' })).json<{
      paths: Record<string, { post?: Record<string, unknown> }>;
    }>();
    const requestSchema = (path: string) =>
      (
        doc.paths[path]?.post as {
          requestBody: { content: Record<string, { schema: Record<string, unknown> }> };
        }
      ).requestBody.content['application/json'].schema;
    expect(requestSchema('/v1/feedback')).toMatchObject({
      required: expect.arrayContaining(['requestId', 'source']),
    });
    expect(requestSchema('/v1/generations')).toMatchObject({
      required: expect.arrayContaining(['requestId', 'model', 'output', 'latencyMs']),
    });
    for (const path of ['/v1/feedback/batch', '/v1/generations/batch']) {
      expect(requestSchema(path)).toMatchObject({ required: ['items'] });
      expect(doc.paths[path]?.post).toMatchObject({
        responses: { '202': {}, '400': {}, '413': {}, '503': {} },
      });
    }
    const operationIds = Object.values(doc.paths).map((p) => p.post?.operationId);
    expect(operationIds).toEqual(
      expect.arrayContaining([
        'submitFeedback',
        'submitFeedbackBatch',
        'logGeneration',
        'logGenerationBatch',
      ]),
    );
    expect(doc.paths['/v1/feedback']?.post).toMatchObject({
      tags: ['feedback'],
      responses: { '202': {}, '400': {}, '409': {}, '413': {}, '503': {} },
    });
  });
});
