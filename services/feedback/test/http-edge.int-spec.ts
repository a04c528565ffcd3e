/**
 * The HTTP edge of the feedback service's direct routes, on real Kafka and MongoDB: JSON only,
 * the body checks that run before any schema (UTF-8, HTTP_JSON_MAX_DEPTH, lone surrogates) and
 * security headers. Nothing refused reaches the topic.
 */
import { TOPICS, topicName } from '@llmops/contracts';
import { testInfra } from '@llmops/testing';
import type { FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import { readTopic, startFeedbackApp, type FeedbackTestApp } from './support/feedback-app';

const infra = testInfra();
let t: FeedbackTestApp;
let fastify: FastifyInstance;
const ROUTES = ['/v1/feedback', '/v1/generations', '/v1/feedback/batch', '/v1/generations/batch'];

beforeAll(async () => {
  t = await startFeedbackApp({
    KAFKA_BROKERS: infra.kafkaBrokers,
    MONGODB_URI: infra.mongoUri,
    MONGODB_DB: infra.dbName,
    KAFKA_TOPIC_PREFIX: infra.topicPrefix,
    KAFKA_PRODUCER_LINGER_MS: '2',
    // A small limit, to show the setting reaches the parser.
    HTTP_JSON_MAX_DEPTH: '8',
  });
  fastify = t.app.getHttpAdapter().getInstance();
});
afterAll(async () => {
  await t?.close();
});

type ErrorBody = { error: { code: string; message: string; details?: Record<string, unknown> } };
const errorOf = (body: unknown) => (body as ErrorBody).error;
const feedback = (extra: Record<string, unknown> = {}) => ({
  requestId: randomUUID(),
  rating: 4,
  source: 'user',
  ...extra,
});

it('a form-encoded, text/plain, multipart or untyped body is a 415 on every ingestion route', async () => {
  const body = JSON.stringify(feedback());
  for (const url of ROUTES) {
    for (const type of [
      'application/x-www-form-urlencoded',
      'text/plain',
      'multipart/form-data; boundary=x',
    ]) {
      const res = await t.postRaw(url, body, type, { origin: 'https://attacker.example' });
      expect([url, type, res.status, errorOf(res.body).code]).toEqual([
        url,
        type,
        415,
        'unsupported_media_type',
      ]);
      expect(errorOf(res.body).message).toContain('application/json');
    }
    const bare = await fastify.inject({
      method: 'POST',
      url,
      payload: Buffer.from(body),
      headers: t.key.header,
    });
    expect([url, bare.statusCode]).toEqual([url, 415]);
  }
});

it('a null, array, number or string body is a 400 on every ingestion route', async () => {
  for (const url of ROUTES) {
    for (const body of ['null', '[]', '3', '"x"']) {
      const res = await t.postRaw(url, body);
      expect([url, body, res.status]).toEqual([url, body, 400]);
      expect(['validation_failed', 'batch_rejected']).toContain(errorOf(res.body).code);
    }
  }
});

it('malformed UTF-8 is a 400 invalid_utf8, never accepted with U+FFFD', async () => {
  const requestId = randomUUID();
  const bytes = Buffer.concat([
    Buffer.from(`{"requestId":"${requestId}","experiment":"x","arm":"A`),
    Buffer.from([0xc3]),
    Buffer.from('","rating":4,"source":"user"}'),
  ]);
  const res = await fastify.inject({
    method: 'POST',
    url: '/v1/feedback',
    headers: { ...t.key.header, 'content-type': 'application/json' },
    payload: bytes,
  });
  expect([res.statusCode, res.json<ErrorBody>().error.code]).toEqual([400, 'invalid_utf8']);
});

it('lone surrogates in ids, values and score names are a 400 invalid_unicode with the path', async () => {
  // Two ids that differ only in a lone surrogate would both read as the same id after a lossy
  // conversion; neither is accepted.
  for (const id of ['fb-\\ud800', 'fb-\\udc00']) {
    const res = await t.postRaw(
      '/v1/feedback',
      `{"requestId":"r","feedbackId":"${id}","rating":4,"source":"user"}`,
    );
    expect([res.status, errorOf(res.body).code, errorOf(res.body).details?.path]).toEqual([
      400,
      'invalid_unicode',
      'feedbackId',
    ]);
  }
  const key = await t.postRaw('/v1/feedback', '{"requestId":"r","scores":{"s\\udbff":1},"source":"judge"}');
  expect([key.status, errorOf(key.body).details?.path]).toEqual([400, 'scores.s\\udbff']);
  const batch = await t.postRaw(
    '/v1/generations/batch',
    '{"items":[{"requestId":"r","model":"m","output":"ok\\ud83d\\ude00","latencyMs":1},{"requestId":"r2","model":"m","output":"\\ud83d","latencyMs":1}]}',
  );
  expect([batch.status, errorOf(batch.body).code, errorOf(batch.body).details?.path]).toEqual([
    400,
    'invalid_unicode',
    'items.1.output',
  ]);
});

it('HTTP_JSON_MAX_DEPTH bounds every body before the schema, and nothing refused is published', async () => {
  const requestId = randomUUID();
  // The root object is level 1 and metadata level 2: 6 more levels inside it reach the limit of 8.
  const within = await t.post('/v1/generations', {
    requestId: `${requestId}-ok`,
    model: 'm',
    output: 'o',
    latencyMs: 1,
    metadata: { a: [[[[[[]]]]]] },
  });
  expect(errorOf(within.body)?.code).not.toBe('json_too_deep');
  const over = await t.post('/v1/generations', {
    requestId,
    model: 'm',
    output: 'o',
    latencyMs: 1,
    metadata: { a: [[[[[[[]]]]]]] },
  });
  expect([over.status, errorOf(over.body).code]).toEqual([400, 'json_too_deep']);
  expect(errorOf(over.body).details).toMatchObject({ maxDepth: 8, path: 'metadata.a.0.0.0.0.0.0' });
  expect(errorOf(over.body).message).toContain('HTTP_JSON_MAX_DEPTH');

  const deep = '['.repeat(100_000) + ']'.repeat(100_000);
  for (const url of ROUTES) {
    const res = await t.postRaw(url, deep);
    expect([url, res.status, errorOf(res.body).code]).toEqual([url, 400, 'json_too_deep']);
  }

  // A marker sent after the refused one is published; the refused one never is.
  const marker = await t.post('/v1/generations', {
    requestId: `${requestId}-marker`,
    model: 'm',
    output: 'o',
    latencyMs: 1,
  });
  expect(marker.status).toBe(202);
  const generations = await readTopic(
    infra.kafkaBrokers,
    topicName(TOPICS.generations, infra.topicPrefix),
    (records) => records.some((r) => r.key === `${requestId}-marker`),
  );
  expect(generations.some((r) => r.key === `${requestId}-marker`)).toBe(true);
  expect(generations.filter((r) => r.key === requestId)).toEqual([]);
});

it('security headers are on the ingestion routes, their errors and /docs', async () => {
  const ok = await t.post('/v1/feedback', feedback());
  const bad = await t.postRaw('/v1/feedback', '{');
  const docs = await fastify.inject({ method: 'GET', url: '/docs' });
  for (const res of [ok, bad, { headers: docs.headers }]) {
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(String(res.headers['content-security-policy'])).toContain("script-src 'self'");
    expect(res.headers['strict-transport-security']).toBeDefined();
  }
});
