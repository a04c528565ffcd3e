/**
 * Deadlines and readiness against a database and a broker of the test's own: the database is
 * frozen (SIGSTOP, a server that keeps its sockets open and answers nothing) and resumed, the broker
 * is stopped and restarted. While a dependency is away, requests that need it answer 503 within
 * 2 s, and /health/ready answers within 1 s, naming the failing component; afterwards both recover.
 */
import {
  type DedicatedKafka,
  type DedicatedMongo,
  expectEventually,
  startDedicatedKafka,
  startDedicatedMongo,
  testInfra,
} from '@llmops/testing';
import { randomUUID } from 'node:crypto';
import { type FeedbackTestApp, type InjectResult, startFeedbackApp } from './support/feedback-app';

const infra = testInfra();
let mongo: DedicatedMongo;
let kafka: DedicatedKafka;
let t: FeedbackTestApp;

async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const started = performance.now();
  const result = await run();
  return { ms: performance.now() - started, result };
}

async function ready(): Promise<{ ms: number; result: InjectResult }> {
  const fastify = t.app.getHttpAdapter().getInstance();
  return timed(async () => {
    const res = await fastify.inject({ method: 'GET', url: '/health/ready' });
    return { status: res.statusCode, body: JSON.parse(res.body) as unknown, headers: res.headers };
  });
}

const feedbackWithId = () =>
  t.post('/v1/feedback', {
    feedbackId: `fb-${randomUUID()}`,
    requestId: randomUUID(),
    rating: 4,
    source: 'user',
  });

beforeAll(async () => {
  [mongo, kafka] = await Promise.all([
    startDedicatedMongo(`feedback-faults-${infra.id}`),
    startDedicatedKafka(`feedback-faults-${infra.id}`),
  ]);
  t = await startFeedbackApp({
    KAFKA_BROKERS: kafka.brokers,
    KAFKA_TOPIC_PREFIX: infra.topicPrefix,
    KAFKA_TOPIC_PARTITIONS: '1',
    MONGODB_URI: mongo.uri,
    MONGODB_DB: infra.dbName,
    HEALTH_PROBE_INTERVAL_MS: '250',
    KAFKA_PRODUCER_SEND_TIMEOUT_MS: '1500',
  });
  await expectEventually(async () => expect((await ready()).result.status).toBe(200), {
    timeoutMs: 30_000,
    intervalMs: 100,
  });
}, 120_000);

afterAll(async () => {
  mongo?.resume();
  await t?.close();
  await Promise.all([mongo?.destroy(), kafka?.destroy()]);
}, 60_000);

it('a frozen database: 503 database_unavailable within 2 s, readiness 503 within 1 s, then recovery', async () => {
  expect((await feedbackWithId()).status).toBe(202);

  mongo.freeze();
  try {
    // Concurrent requests that each need a revision claim: none waits for another's deadline.
    const answers = await Promise.all([0, 1, 2, 3].map(() => timed(feedbackWithId)));
    for (const { ms, result } of answers) {
      expect({ status: result.status, body: result.body }).toMatchObject({
        status: 503,
        body: { error: { code: 'database_unavailable' } },
      });
      expect(result.headers['retry-after']).toBe('5');
      expect(ms).toBeLessThan(2_000);
    }

    const slowest: number[] = [];
    await expectEventually(
      async () => {
        const { ms, result } = await ready();
        slowest.push(ms);
        expect(result.status).toBe(503);
        expect(result.body).toMatchObject({ status: 'error', failing: ['mongodb'] });
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    expect(Math.max(...slowest)).toBeLessThan(1_000);
  } finally {
    mongo.resume();
  }

  await expectEventually(
    async () => {
      expect((await ready()).result.status).toBe(200);
      expect((await feedbackWithId()).status).toBe(202);
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  );
}, 90_000);

it('a stopped broker: readiness answers within 1 s, 503 naming kafka, then 200 after restart', async () => {
  await kafka.stop();
  const slowest: number[] = [];
  try {
    await expectEventually(
      async () => {
        const { ms, result } = await ready();
        slowest.push(ms);
        expect(result.status).toBe(503);
        expect(result.body).toMatchObject({ status: 'error', failing: ['kafka'] });
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    // It keeps answering fast for as long as the broker is away.
    for (let i = 0; i < 10; i++) slowest.push((await ready()).ms);
    expect(Math.max(...slowest)).toBeLessThan(1_000);
  } finally {
    await kafka.start();
  }
  await expectEventually(async () => expect((await ready()).result.status).toBe(200), {
    timeoutMs: 60_000,
    intervalMs: 200,
  });
}, 120_000);
