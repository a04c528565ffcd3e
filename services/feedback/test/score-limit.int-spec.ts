/** Named scores per feedback item are bounded at the edge: analytics never receives an item with more. */
import { testInfra } from '@llmops/testing';
import { randomUUID } from 'node:crypto';
import { startFeedbackApp, type FeedbackTestApp } from './support/feedback-app';

const infra = testInfra();
let t: FeedbackTestApp;

beforeAll(async () => {
  t = await startFeedbackApp({
    KAFKA_BROKERS: infra.kafkaBrokers,
    MONGODB_URI: infra.mongoUri,
    MONGODB_DB: infra.dbName,
    KAFKA_TOPIC_PREFIX: infra.topicPrefix,
  });
});
afterAll(async () => {
  await t?.close();
});

const scores = (n: number): Record<string, number> =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`s${i}`, i / n]));
const judged = (n: number) => ({ requestId: randomUUID(), source: 'judge', scores: scores(n) });
const issuesOf = (body: unknown) =>
  (body as { error: { code: string; details: { issues: unknown[] } } }).error.details.issues;

describe('scores per feedback item', () => {
  it('accepts 20 named scores', async () => {
    const res = await t.post('/v1/feedback', judged(20));
    expect(res.status).toBe(202);
  });

  it('400 with the path `scores` for 21 or more (2,000: the cardinality flood)', async () => {
    for (const n of [21, 2_000]) {
      const res = await t.post('/v1/feedback', judged(n));
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: { code: 'validation_failed' } });
      expect(issuesOf(res.body)).toEqual([{ path: 'scores', message: 'expected at most 20 scores' }]);
    }
  });

  it('a batch rejects the item that carries too many, by index, and accepts the others', async () => {
    const res = await t.post('/v1/feedback/batch', { items: [judged(1), judged(21)] });
    expect(res.status).toBe(202);
    const body = res.body as {
      accepted: string[];
      rejected: Array<{ index: number; code: string; issues: unknown[] }>;
    };
    expect(body.accepted).toHaveLength(1);
    expect(body.rejected).toEqual([
      {
        index: 1,
        code: 'validation_failed',
        message: expect.any(String),
        issues: [{ path: 'scores', message: 'expected at most 20 scores' }],
      },
    ]);
  });
});
