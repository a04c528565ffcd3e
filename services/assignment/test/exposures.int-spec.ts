/**
 * Exposures: one io.llmops.exposure.v1 per in-experiment assignment call, with the served arm,
 * keyed `${experiment}:${userId}`; none for users outside the experiment. Experiment changes are
 * on the compacted experiments topic as full snapshots keyed by experiment key.
 */
import { EVENT_TYPES, parseEvent, TOPICS, topicName } from '@llmops/contracts';
import { expectEventually, testInfra, startTopicReader, type TopicReader } from '@llmops/testing';
import { type AssignmentApp, startAssignmentApp } from './support/assignment-app';
import { createRunning, registeredArms } from './support/fixtures';
import type { RegistryHandle } from './support/registry';
import { startTestRegistry } from './support/test-registry';

type Assign = { arm: string; inExperiment: boolean; reason: string; prompt: { hash: string } };

describe('exposure and experiment events', () => {
  const infra = testInfra();
  let registry: RegistryHandle;
  let app: AssignmentApp;
  let exposures: TopicReader;
  let experiments: TopicReader;

  beforeAll(async () => {
    registry = await startTestRegistry(infra);
    app = await startAssignmentApp(infra, { REGISTRY_URL: registry.url });
    exposures = await startTopicReader(infra.kafkaBrokers, topicName(TOPICS.exposures, infra.topicPrefix));
    experiments = await startTopicReader(
      infra.kafkaBrokers,
      topicName(TOPICS.experiments, infra.topicPrefix),
    );
  });
  afterAll(async () => {
    await exposures?.stop();
    await experiments?.stop();
    await app?.close();
    await registry?.stop();
  });

  it('one exposure per in-experiment call (single and batch), with the right arm; none outside', async () => {
    const arms = await registeredArms(registry, 'exposed', [
      ['A', 1],
      ['B', 1],
    ]);
    await createRunning(app, { key: 'exposed', arms, trafficAllocation: 0.5, forced: { 'qa:1': 'B' } });
    const served = new Map<string, Assign>();
    const calls: string[] = [];
    // The correlation id of every call that exposed a user: each exposure carries its call's.
    const callIds = new Map<string, string[]>();
    const exposedBy = (userId: string, correlationId: string) => {
      calls.push(userId);
      callIds.set(userId, [...(callIds.get(userId) ?? []), correlationId]);
    };
    for (let i = 0; i < 60; i++) {
      const userId = `single-${i % 40}`; // 20 users are assigned twice: two calls, two exposures
      const correlationId = `single-call-${i}`;
      const res = await app.request<Assign>(
        'POST',
        '/v1/assign',
        { experiment: 'exposed', userId },
        { 'x-correlation-id': correlationId },
      );
      expect(res.status).toBe(200);
      expect(res.headers['x-correlation-id']).toBe(correlationId);
      served.set(userId, res.body);
      if (res.body.inExperiment) exposedBy(userId, correlationId);
    }
    const forced = await app.request<Assign>(
      'POST',
      '/v1/assign',
      { experiment: 'exposed', userId: 'qa:1' },
      { 'x-correlation-id': 'forced-call' },
    );
    served.set('qa:1', forced.body);
    exposedBy('qa:1', 'forced-call');
    const batchUsers = Array.from({ length: 300 }, (_, i) => `batch-${i}`);
    const batch = await app.request<{ items: Assign[] }>(
      'POST',
      '/v1/assign/batch',
      { items: batchUsers.map((userId) => ({ experiment: 'exposed', userId })) },
      { 'x-correlation-id': 'batch-call' },
    );
    batch.body.items.forEach((r, i) => {
      served.set(batchUsers[i], r);
      if (r.inExperiment) exposedBy(batchUsers[i], 'batch-call');
    });
    expect(calls.length).toBeGreaterThan(100);
    expect(calls.length).toBeLessThan(361);

    // Acknowledged before the responses were sent, so they are all there; wait for the reader only.
    await expectEventually(() => expect(exposures.records.length).toBe(calls.length), { timeoutMs: 20_000 });
    const perUser = new Map<string, number>();
    for (const record of exposures.records) {
      const event = parseEvent(record.value);
      if (event.type !== EVENT_TYPES.exposure) throw new Error(`unexpected ${event.type}`);
      const d = event.data;
      expect(record.key).toBe(`exposed:${d.userId}`);
      expect(record.headers['content-type']).toBe('application/cloudevents+json');
      const ids = callIds.get(d.userId) ?? [];
      const correlationId = record.headers['x-correlation-id'];
      expect(ids).toContain(correlationId);
      ids.splice(ids.indexOf(correlationId!), 1);
      const answer = served.get(d.userId)!;
      expect(answer.inExperiment).toBe(true);
      expect(d).toMatchObject({
        experiment: 'exposed',
        phase: 1,
        arm: answer.arm,
        prompt: { name: 'exposed', hash: answer.prompt.hash },
        hashVersion: 1,
        reason: d.userId === 'qa:1' ? 'forced' : 'hash',
      });
      perUser.set(d.userId, (perUser.get(d.userId) ?? 0) + 1);
    }
    const expected = new Map<string, number>();
    for (const u of calls) expected.set(u, (expected.get(u) ?? 0) + 1);
    expect(perUser).toEqual(expected);
  });

  it('publishes every experiment change as a full snapshot keyed by experiment key, revisions in order', async () => {
    const arms = await registeredArms(registry, 'published', [
      ['A', 1],
      ['B', 1],
    ]);
    await createRunning(app, { key: 'published', arms });
    await app.request(
      'PATCH',
      '/v1/experiments/published',
      { trafficAllocation: 1, description: 'changed' },
      { 'x-correlation-id': 'corr-patch-1' },
    );
    await app.request('POST', '/v1/experiments/published/pause', undefined, {
      'x-correlation-id': 'corr-pause-1',
    });
    await expectEventually(
      () => expect(experiments.records.filter((r) => r.key === 'published')).toHaveLength(4),
      { timeoutMs: 20_000 },
    );
    const records = experiments.records.filter((r) => r.key === 'published');
    // Each event carries the context of the request that made the change.
    expect(records[2].headers['x-correlation-id']).toBe('corr-patch-1');
    expect(records[3].headers['x-correlation-id']).toBe('corr-pause-1');
    const events = records.map((r) => parseEvent(r.value));
    expect(events.map((e) => e.type)).toEqual([
      EVENT_TYPES.experimentCreated,
      EVENT_TYPES.experimentStatusChanged,
      EVENT_TYPES.experimentUpdated,
      EVENT_TYPES.experimentStatusChanged,
    ]);
    const snapshots = events.map(
      (e) => (e.data as { experiment: { revision: number; status: string; description: string } }).experiment,
    );
    expect(snapshots.map((s) => s.revision)).toEqual([1, 2, 3, 4]);
    expect(snapshots.map((s) => s.status)).toEqual(['draft', 'running', 'running', 'paused']);
    expect(snapshots[2].description).toBe('changed');
    expect((events[3].data as { previousStatus?: string }).previousStatus).toBe('running');
    expect(events[2].data).toMatchObject({ changes: ['description'] });
    const current = await app.request<{ revision: number; publishedRevision: number }>(
      'GET',
      '/v1/experiments/published',
    );
    expect(current.body).toMatchObject({ revision: 4, publishedRevision: 4 });
  });
});
