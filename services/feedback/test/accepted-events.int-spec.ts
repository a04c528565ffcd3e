/**
 * Everything the feedback service accepts can be published: for boundary inputs (Unicode,
 * redaction that changes lengths, nesting, extreme but valid numbers, optional fields, batches) each
 * answer is a 202 or a 4xx, and every accepted item's event is on its topic and passes its event
 * contract strictly (`parseEvent`, unknown fields refused). Generations are validated by a request
 * schema derived from the contract; feedback drafts that redaction could push over a contract limit
 * go through the validating `createEvent`, so the contract decides before the 202.
 */
import { parseEvent, TOPICS, topicName } from '@llmops/contracts';
import { testInfra } from '@llmops/testing';
import { randomUUID } from 'node:crypto';
import { type FeedbackTestApp, readTopic, startFeedbackApp, type TopicRecord } from './support/feedback-app';

const infra = testInfra();
let t: FeedbackTestApp;

beforeAll(async () => {
  t = await startFeedbackApp(
    {
      KAFKA_BROKERS: infra.kafkaBrokers,
      MONGODB_URI: infra.mongoUri,
      MONGODB_DB: infra.dbName,
      KAFKA_TOPIC_PREFIX: infra.topicPrefix,
      KAFKA_PRODUCER_LINGER_MS: '2',
      // Redaction rewrites text after validation: its output must still pass the contract.
      FEEDBACK_REDACT_PII: 'true',
    },
    { experiments: ['exp-a'] },
  );
});

afterAll(async () => {
  await t?.close();
});

function nested(depth: number): unknown {
  let v: unknown = 'leaf';
  for (let i = 0; i < depth; i++) v = { [`k${i}`]: v, list: [i, null, true] };
  return v;
}

const PII = 'write to a@b.io or call +1 555 123 4567 ';

function generations(): Record<string, unknown>[] {
  const base = () => ({ requestId: randomUUID(), model: 'm', output: 'out' });
  return [
    { ...base(), output: '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ✓ 中文 עברית 🙂', userId: '用户🙂', experiment: 'exp-a', arm: 'B' },
    { ...base(), output: PII.repeat(50), input: PII },
    {
      ...base(),
      input: [
        { role: 'system', content: PII },
        { role: 'user', content: 'hi' },
      ],
    },
    { ...base(), metadata: nested(20) },
    { ...base(), metadata: { '': 1, 'a.b': [[1, [2, [3]]]], emoji: '🙂', n: -0.5e-300 } },
    { ...base(), timestamp: '2026-01-31T12:00:00.000+02:00', latencyMs: 0, costUsd: 0 },
    {
      ...base(),
      usage: { promptTokens: 0, completionTokens: 0 },
      prompt: { name: 'p', hash: 'a'.repeat(64) },
    },
    { ...base(), output: 'x'.repeat(256 * 1024 - 10) },
    { ...base(), output: '\ud800' },
    { ...base(), requestId: 'nul\u0000id' },
    { ...base(), metadata: { '\udfff': 1 } },
  ];
}

function feedback(): Record<string, unknown>[] {
  const base = () => ({ requestId: randomUUID(), source: 'user' });
  return [
    { ...base(), rating: 1 },
    { ...base(), rating: 5, thumbs: 'up', comment: '🙂 '.repeat(100), userId: '用户🙂' },
    { ...base(), feedbackId: `fb-${randomUUID()}`, thumbs: 'down', correction: PII },
    { ...base(), source: 'judge', scores: { relevance: 0, coherence: 1, 'f.1': 0.5 } },
    // Under the request's byte limit, but redaction makes it longer than the contract allows.
    { ...base(), comment: 'a@b.io '.repeat(4_681) },
    { ...base(), comment: PII.repeat(10), latencyMs: 0, timestamp: '2026-01-31T12:00:00Z' },
    { ...base(), comment: 'lone \ud800 surrogate' },
  ];
}

it('every accepted generation and feedback item is published as an event that passes its contract', async () => {
  const accepted = new Map<string, 'generation' | 'feedback'>();
  const statuses: number[] = [];
  const send = async (kind: 'generation' | 'feedback', url: string, body: Record<string, unknown>) => {
    const res = await t.post(url, body);
    statuses.push(res.status);
    expect([202, 400, 413]).toContain(res.status);
    if (res.status === 202) accepted.set(String(body.requestId), kind);
  };
  for (const g of generations()) await send('generation', '/v1/generations', g);
  for (const f of feedback()) await send('feedback', '/v1/feedback', f);

  // The same items in batches: each item is accepted or rejected on its own.
  for (const [url, items, kind] of [
    ['/v1/generations/batch', generations(), 'generation'],
    ['/v1/feedback/batch', feedback(), 'feedback'],
  ] as const) {
    const res = await t.post(url, { items });
    expect([202, 400]).toContain(res.status);
    const rejected = new Set(
      ((res.body as { rejected?: { index: number }[] }).rejected ?? []).map((r) => r.index),
    );
    if (res.status === 202) {
      items.forEach((item, index) => {
        if (!rejected.has(index)) accepted.set(String(item.requestId), kind);
      });
    }
  }
  // The boundary inputs include both outcomes.
  expect(statuses.filter((s) => s === 202).length).toBeGreaterThan(5);
  expect(statuses.filter((s) => s !== 202).length).toBeGreaterThan(2);

  for (const [kind, base] of [
    ['generation', TOPICS.generations],
    ['feedback', TOPICS.feedback],
  ] as const) {
    const wanted = [...accepted].filter(([, k]) => k === kind).map(([id]) => id);
    const mine = (records: TopicRecord[]) => records.filter((r) => r.key !== null && wanted.includes(r.key));
    const records = mine(
      await readTopic(
        infra.kafkaBrokers,
        topicName(base, infra.topicPrefix),
        (rs) => new Set(mine(rs).map((r) => r.key)).size >= wanted.length,
        30_000,
      ),
    );
    expect(new Set(records.map((r) => r.key)).size).toBe(wanted.length);
    for (const r of records) {
      // Strict: the published bytes pass the contract exactly as a consumer validates them.
      const event = parseEvent(r.value);
      expect((event.data as { requestId: string }).requestId).toBe(r.key);
    }
  }
});
