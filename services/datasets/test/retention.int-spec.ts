/**
 * Retention against real Kafka and MongoDB: events older than DATASETS_RETENTION_DAYS are skipped,
 * examples whose first event gets older than that are purged by the sweep, and the metrics say so.
 */
import { expectEventually, type TestInfra, testInfra } from '@llmops/testing';
import type { Kafka, Producer } from 'kafkajs';
import { type DatasetsTestApp, startDatasets } from './support/datasets-app';
import {
  connectProducer,
  createTopics,
  feedbackEvent,
  generationEvent,
  groupLag,
  openDatabase,
  produce,
} from './support/scenario';

const DAY_MS = 86_400_000;
/** The `aging` example is this much younger than the horizon when produced, then crosses it. */
const AGING_MARGIN_MS = 15_000;

const iso = (msAgo: number) => new Date(Date.now() - msAgo).toISOString();

function generation(requestId: string, receivedAt: string) {
  return generationEvent({
    requestId,
    model: 'm',
    output: 'o',
    latencyMs: 1,
    timestamp: receivedAt,
    receivedAt,
  });
}

function feedback(requestId: string, receivedAt: string) {
  return feedbackEvent({
    requestId,
    feedbackId: `fb-${requestId}`,
    revision: 1,
    edit: null,
    source: 'judge',
    rating: 4,
    timestamp: receivedAt,
    receivedAt,
  });
}

describe('datasets retention', () => {
  let infra: TestInfra;
  let svc: DatasetsTestApp;
  let kafka: Kafka;
  let producer: Producer;
  let db: Awaited<ReturnType<typeof openDatabase>>;

  beforeAll(async () => {
    infra = testInfra('datasets-retention');
    ({ kafka, producer } = await connectProducer(infra.kafkaBrokers));
    await createTopics(kafka, infra.topicPrefix);
    db = await openDatabase(infra);
    svc = await startDatasets(infra, {
      DATASETS_RETENTION_DAYS: '1',
      DATASETS_RETENTION_SWEEP_MS: '1000',
      DATASETS_METRICS_REFRESH_MS: '200',
    });
  }, 120_000);

  afterAll(async () => {
    await svc?.close();
    await producer?.disconnect();
    await db?.close();
  });

  /** The value of a series of /metrics: its name and labels, besides the registry's `service` label. */
  const metric = async (name: string, labels: Record<string, string> = {}): Promise<number | undefined> => {
    const text = (await svc.request('GET', '/metrics', undefined, null)).raw;
    const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && wanted.every((w) => l.includes(w)));
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
  };

  it('skips expired events, purges examples that age past the horizon, and counts both', async () => {
    await produce(producer, infra.topicPrefix, [
      generation('fresh', iso(60_000)),
      // First seen just inside the horizon; its later feedback does not move the retention clock.
      generation('aging', iso(DAY_MS - AGING_MARGIN_MS)),
      feedback('aging', iso(1_000)),
      // Older than the horizon: never stored.
      generation('expired', iso(2 * DAY_MS)),
      feedback('expired-feedback', iso(2 * DAY_MS)),
      // Feedback only: parked.
      feedback('parked', iso(1_000)),
    ]);
    await expectEventually(
      async () =>
        expect(await groupLag(kafka, svc.config.DATASETS_CONSUMER_GROUP, infra.topicPrefix)).toBe(0),
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(await metric('llmops_datasets_events_total', { type: 'generation', outcome: 'applied' })).toBe(2);
    expect(await metric('llmops_datasets_events_total', { type: 'feedback', outcome: 'applied' })).toBe(2);
    expect(await metric('llmops_datasets_events_total', { type: 'generation', outcome: 'expired' })).toBe(1);
    expect(await metric('llmops_datasets_events_total', { type: 'feedback', outcome: 'expired' })).toBe(1);
    const ids = (await db.stored()).map((d) => d._id);
    expect(ids.filter((id) => id === 'expired' || id === 'expired-feedback')).toEqual([]);

    // The sweep (every second) removes `aging` once its first event is a day old.
    await expectEventually(
      async () => {
        const left = (await db.stored()).map((d) => d._id);
        expect(left.sort()).toEqual(['fresh', 'parked']);
      },
      { timeoutMs: AGING_MARGIN_MS + 30_000, intervalMs: 500 },
    );
    expect(await metric('llmops_datasets_examples_purged_total')).toBe(1);
    await expectEventually(async () => {
      expect(await metric('llmops_datasets_examples', { state: 'materialized' })).toBe(1);
      expect(await metric('llmops_datasets_examples', { state: 'parked' })).toBe(1);
    });
  }, 120_000);
});
