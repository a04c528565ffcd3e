/**
 * Broker outage: a steady stream of requests while the service's own broker is stopped and
 * restarted. Every answer must be 202 or 503 (+ Retry-After), never anything else, and every 202'd
 * event must be on its topic afterwards, read from the beginning: each id present, and all copies
 * of one id identical (so deduplication by id yields exactly one event per accepted request).
 */
import { parseEvent, TOPICS, topicName } from '@llmops/contracts';
import { type DedicatedKafka, startDedicatedKafka, testInfra, expectEventually } from '@llmops/testing';
import { randomUUID } from 'node:crypto';
import { readTopic, startFeedbackApp, type FeedbackTestApp, type TopicRecord } from './support/feedback-app';

const infra = testInfra();
let kafka: DedicatedKafka;
let t: FeedbackTestApp;

interface Sent {
  kind: 'generation' | 'feedback';
  eventId: string;
  status: number;
  retryAfter?: string;
  phase: 'before' | 'outage' | 'after';
}

beforeAll(async () => {
  kafka = await startDedicatedKafka('feedback-outage');
  t = await startFeedbackApp({
    KAFKA_BROKERS: kafka.brokers,
    MONGODB_URI: infra.mongoUri,
    MONGODB_DB: infra.dbName,
    KAFKA_TOPIC_PREFIX: infra.topicPrefix,
    KAFKA_TOPIC_PARTITIONS: '3',
    // Keep each refused request short; the client-visible contract (503, never a false 202) is the same.
    KAFKA_PRODUCER_SEND_TIMEOUT_MS: '2500',
  });
}, 90_000);

afterAll(async () => {
  await t?.close();
  await kafka?.destroy();
}, 60_000);

it('every request gets 202 or 503; every 202 is on the topic, once by id', async () => {
  const sent: Sent[] = [];
  let phase: Sent['phase'] = 'before';
  let running = true;

  const worker = async (w: number): Promise<void> => {
    for (let i = 0; running; i++) {
      const requestId = `${w}-${i}-${randomUUID()}`;
      if (i % 2 === 0) {
        const res = await t.post('/v1/generations', {
          requestId,
          model: 'm',
          output: `out ${i}`,
          latencyMs: i,
        });
        sent.push({
          kind: 'generation',
          eventId: `gen:${requestId}`,
          status: res.status,
          retryAfter: res.headers['retry-after'] as string | undefined,
          phase,
        });
      } else {
        const feedbackId = `fb-${requestId}`;
        const res = await t.post('/v1/feedback', {
          feedbackId,
          requestId,
          rating: (i % 5) + 1,
          source: 'user',
        });
        sent.push({
          kind: 'feedback',
          eventId: `fb:${feedbackId}:1`,
          status: res.status,
          retryAfter: res.headers['retry-after'] as string | undefined,
          phase,
        });
      }
    }
  };
  // Each phase must really happen (enough traffic before, during and after the outage).
  const until = (cond: () => boolean, timeoutMs: number): Promise<void> =>
    expectEventually(() => expect(cond()).toBe(true), { timeoutMs, intervalMs: 50 });
  const count = (p: Sent['phase'], status: number) =>
    sent.filter((s) => s.phase === p && s.status === status).length;

  const workers = [0, 1, 2, 3].map((w) => worker(w));
  await until(() => count('before', 202) >= 60, 20_000);
  phase = 'outage';
  await kafka.stop();
  await until(() => count('outage', 503) >= 8, 20_000);
  await kafka.start();
  phase = 'after';
  await until(() => count('after', 202) >= 60, 30_000);
  running = false;
  await Promise.all(workers);

  // The only outcomes: 202, or 503 with Retry-After.
  const statuses = new Set(sent.map((s) => s.status));
  expect([...statuses].filter((s) => s !== 202 && s !== 503)).toEqual([]);
  expect(sent.filter((s) => s.status === 503 && !s.retryAfter)).toEqual([]);
  expect(count('before', 202)).toBeGreaterThanOrEqual(60);
  expect(count('outage', 503)).toBeGreaterThanOrEqual(8);
  expect(count('after', 202)).toBeGreaterThanOrEqual(60);

  const accepted = sent.filter((s) => s.status === 202);
  const wanted = new Set(accepted.map((s) => s.eventId));
  const valuesById = new Map<string, Set<string>>();
  const collect = (records: TopicRecord[]) => {
    for (const r of records) {
      const id = parseEvent(r.value).id;
      const set = valuesById.get(id) ?? new Set<string>();
      set.add(r.value);
      valuesById.set(id, set);
    }
  };
  const missing = () => [...wanted].filter((id) => !valuesById.has(id));
  for (const base of [TOPICS.generations, TOPICS.feedback]) {
    const topic = topicName(base, infra.topicPrefix);
    const ids = new Set(
      accepted
        .filter((s) => s.eventId.startsWith(base === TOPICS.feedback ? 'fb:' : 'gen:'))
        .map((s) => s.eventId),
    );
    collect(
      await readTopic(
        kafka.brokers,
        topic,
        (records) =>
          ids.size <= new Set(records.map((r) => parseEvent(r.value).id)).size &&
          [...ids].every((id) => records.some((r) => r.value.includes(`"id":"${id}"`))),
        40_000,
      ),
    );
  }
  expect(missing()).toEqual([]);
  // Deduplication by id is lossless: no id ever carries two different values.
  expect([...valuesById].filter(([, values]) => values.size > 1)).toEqual([]);
}, 150_000);
