/**
 * Kafka outage on a broker of this test's own: assignments that need an exposure get 503 +
 * Retry-After (never a silent drop); experiment writes stay durable in MongoDB and the outbox
 * publishes them, and their audit events, once the broker is back. The registry runs on the same
 * broker, so it reads the same API keys.
 */
import { parseEvent, TOPICS, topicName } from '@llmops/contracts';
import {
  type DedicatedKafka,
  expectEventually,
  startDedicatedKafka,
  testInfra,
  startTopicReader,
} from '@llmops/testing';
import { type AssignmentApp, startAssignmentApp } from './support/assignment-app';
import { createRunning, registeredArms } from './support/fixtures';
import type { RegistryHandle } from './support/registry';
import { startTestRegistry } from './support/test-registry';

type ErrorBody = { error: { code: string } };

describe('broker outage', () => {
  const infra = testInfra();
  let kafka: DedicatedKafka;
  let registry: RegistryHandle;
  let app: AssignmentApp;

  beforeAll(async () => {
    kafka = await startDedicatedKafka(`assignment-${infra.id}`);
    registry = await startTestRegistry({ ...infra, kafkaBrokers: kafka.brokers });
    app = await startAssignmentApp(infra, {
      KAFKA_BROKERS: kafka.brokers,
      REGISTRY_URL: registry.url,
      KAFKA_PRODUCER_SEND_TIMEOUT_MS: '2000',
      EXPERIMENTS_PUBLISH_WAIT_MS: '1000',
      EXPERIMENTS_OUTBOX_INTERVAL_MS: '500',
    });
  });
  afterAll(async () => {
    await app?.close();
    await registry?.stop();
    await kafka?.destroy();
  });

  it('503 + Retry-After while the broker is down; experiment changes are published after it is back', async () => {
    const arms = await registeredArms(registry, 'outage', [
      ['A', 1],
      ['B', 1],
    ]);
    await createRunning(app, { key: 'outage', arms });
    await createRunning(app, { key: 'outage-paused', arms });
    await app.request('POST', '/v1/experiments/outage-paused/pause');
    expect((await app.request('POST', '/v1/assign', { experiment: 'outage', userId: 'u1' })).status).toBe(
      200,
    );

    await kafka.stop();
    const refused = await app.request<ErrorBody>('POST', '/v1/assign', {
      experiment: 'outage',
      userId: 'u1',
    });
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('broker_unavailable');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    const batch = await app.request<ErrorBody>('POST', '/v1/assign/batch', {
      items: [{ experiment: 'outage', userId: 'u2' }],
    });
    expect(batch.status).toBe(503);
    // No exposure needed (not running): still served from memory.
    const paused = await app.request('POST', '/v1/assign', { experiment: 'outage-paused', userId: 'u1' });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ inExperiment: false, reason: 'not-running' });

    // The write is durable in MongoDB; its publication is pending.
    const patched = await app.request<{ revision: number; publishedRevision: number }>(
      'PATCH',
      '/v1/experiments/outage',
      {
        description: 'changed during the outage',
      },
    );
    expect(patched.status).toBe(200);
    expect(patched.body.revision).toBe(3);
    expect(patched.body.publishedRevision).toBe(2);

    await kafka.start();
    await expectEventually(
      async () =>
        expect((await app.request('GET', '/v1/experiments/outage')).body).toMatchObject({
          revision: 3,
          publishedRevision: 3,
        }),
      { timeoutMs: 45_000, intervalMs: 500 },
    );
    const reader = await startTopicReader(kafka.brokers, topicName(TOPICS.experiments, infra.topicPrefix));
    try {
      await expectEventually(
        () => {
          const revisions = reader.records
            .filter((r) => r.key === 'outage')
            .map(
              (r) => (parseEvent(r.value).data as { experiment: { revision: number } }).experiment.revision,
            );
          expect(revisions[revisions.length - 1]).toBe(3);
        },
        { timeoutMs: 20_000 },
      );
    } finally {
      await reader.stop();
    }
    // The change made during the outage has its audit event, made by the app's key: one event (a
    // send the outage interrupted may be repeated, with the same event id, which the trail dedupes).
    const audit = await startTopicReader(kafka.brokers, topicName(TOPICS.audit, infra.topicPrefix));
    try {
      await expectEventually(
        () => {
          const updates = new Map<string, string>();
          for (const r of audit.records) {
            const event = parseEvent(r.value);
            const d = event.data as { action: string; actor: string; resource: string };
            if (d.resource === 'outage' && d.action === 'experiment.updated') updates.set(event.id, d.actor);
          }
          expect([...updates.values()]).toEqual([app.key.keyId]);
        },
        { timeoutMs: 20_000 },
      );
    } finally {
      await audit.stop();
    }
    await expectEventually(
      async () =>
        expect((await app.request('POST', '/v1/assign', { experiment: 'outage', userId: 'u1' })).status).toBe(
          200,
        ),
      { timeoutMs: 30_000, intervalMs: 500 },
    );
  });
});
