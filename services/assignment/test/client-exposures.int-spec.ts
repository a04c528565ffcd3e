/**
 * POST /v1/exposures (real Kafka, MongoDB and registry): exposures an SDK assigned locally are
 * verified against the server's own assignment; accepted ones are on the exposures topic as the
 * same record a server-side assignment writes (type, key `${experiment}:${userId}`, arm, prompt,
 * phase, reason hash|forced, assignedAt as sent), rejected ones are named per item and written nowhere.
 */
import { EVENT_TYPES, type ExposureData, parseEvent, TOPICS, topicName } from '@llmops/contracts';
import { expectEventually, startTopicReader, testInfra, type TopicReader } from '@llmops/testing';
import { type AssignmentApp, startAssignmentApp } from './support/assignment-app';
import { createRunning, registeredArms } from './support/fixtures';
import type { RegistryHandle } from './support/registry';
import { startTestRegistry } from './support/test-registry';

type Assign = { arm: string; inExperiment: boolean; reason: string; phase: number; prompt: { hash: string } };
type Result = { status: 'accepted' | 'rejected'; error?: { code: string; message: string } };

describe('POST /v1/exposures (client-side exposures)', () => {
  const infra = testInfra();
  let registry: RegistryHandle;
  let app: AssignmentApp;
  let exposures: TopicReader;

  beforeAll(async () => {
    registry = await startTestRegistry(infra);
    app = await startAssignmentApp(infra, { REGISTRY_URL: registry.url });
    exposures = await startTopicReader(infra.kafkaBrokers, topicName(TOPICS.exposures, infra.topicPrefix));
    const arms = await registeredArms(registry, 'client', [
      ['A', 1],
      ['B', 1],
    ]);
    await createRunning(app, {
      key: 'client',
      arms,
      trafficAllocation: 0.5,
      targeting: [{ attribute: 'country', op: 'in', values: ['DE', 'FR'] }],
      forced: { 'qa:1': 'B' },
    });
  });
  afterAll(async () => {
    await exposures?.stop();
    await app?.close();
    await registry?.stop();
  });

  it('accepts what the server assigns, rejects the rest per item, and produces exactly the server-side record', async () => {
    const attributes = { country: 'DE' };
    const users = Array.from({ length: 40 }, (_, i) => `client-user-${i}`);
    const served = await app.request<{ items: Assign[] }>('POST', '/v1/assign/batch', {
      items: users.map((userId) => ({ experiment: 'client', userId, attributes })),
    });
    const inside = users.filter((_, i) => served.body.items[i].inExperiment);
    const outside = users.filter((_, i) => !served.body.items[i].inExperiment);
    expect(inside.length).toBeGreaterThan(5);
    expect(outside.length).toBeGreaterThan(5);
    const armOf = (u: string) => served.body.items[users.indexOf(u)].arm;
    const other = (arm: string) => (arm === 'A' ? 'B' : 'A');
    await expectEventually(() => expect(exposures.records.length).toBe(inside.length), { timeoutMs: 20_000 });
    const serverSide = exposures.records.map((r) => ({ key: r.key, event: parseEvent(r.value) }));
    exposures.records.length = 0;

    const assignedAt = new Date(Date.now() - 60_000).toISOString();
    const items = [
      ...inside.map((userId) => ({
        experiment: 'client',
        userId,
        arm: armOf(userId),
        phase: 1,
        assignedAt,
        attributes,
      })),
      { experiment: 'client', userId: 'qa:1', arm: 'B', phase: 1 },
      { experiment: 'client', userId: inside[0], arm: other(armOf(inside[0])), phase: 1, attributes },
      { experiment: 'client', userId: inside[1], arm: armOf(inside[1]), phase: 2, attributes },
      { experiment: 'client', userId: outside[0], arm: armOf(outside[0]), phase: 1, attributes },
      { experiment: 'client', userId: inside[2], arm: armOf(inside[2]), phase: 1 },
      { experiment: 'missing', userId: inside[3], arm: 'A', phase: 1 },
      {
        experiment: 'client',
        userId: inside[4],
        arm: armOf(inside[4]),
        phase: 1,
        attributes,
        assignedAt: new Date(Date.now() - 2 * 24 * 3_600_000).toISOString(),
      },
    ];
    const res = await app.request<{ items: Result[] }>(
      'POST',
      '/v1/exposures',
      { items },
      {
        'x-correlation-id': 'client-exposures',
      },
    );
    expect(res.status).toBe(202);
    const results = res.body.items;
    expect(results).toHaveLength(items.length);
    for (let i = 0; i <= inside.length; i++) expect(results[i]).toEqual({ status: 'accepted' });
    const rejected = results.slice(inside.length + 1).map((r) => [r.status, r.error?.code]);
    expect(rejected).toEqual([
      ['rejected', 'exposure_mismatch'],
      ['rejected', 'exposure_mismatch'],
      ['rejected', 'not_in_experiment'],
      ['rejected', 'not_in_experiment'], // targeting needs the attributes the SDK assigned with
      ['rejected', 'experiment_not_found'],
      ['rejected', 'assigned_at_out_of_range'],
    ]);
    expect(results[inside.length + 1].error?.message).toContain(`arm "${armOf(inside[0])}" in phase 1`);

    // Acknowledged before 202: exactly the accepted ones are on the topic.
    await expectEventually(() => expect(exposures.records.length).toBe(inside.length + 1), {
      timeoutMs: 20_000,
    });
    const bare = ({ assignedAt: _t, ...rest }: ExposureData) => rest;
    for (const record of exposures.records) {
      const event = parseEvent(record.value);
      if (event.type !== EVENT_TYPES.exposure) throw new Error(`unexpected ${event.type}`);
      const d = event.data;
      expect(record.key).toBe(`client:${d.userId}`);
      expect(record.headers['x-correlation-id']).toBe('client-exposures');
      expect(event.project).toBe('default');
      if (d.userId === 'qa:1') {
        expect(d).toMatchObject({ arm: 'B', reason: 'forced', phase: 1 });
        continue;
      }
      expect(d.assignedAt).toBe(assignedAt);
      const server = serverSide.find((s) => s.key === record.key)!.event;
      if (server.type !== EVENT_TYPES.exposure) throw new Error(`unexpected ${server.type}`);
      expect(bare(d)).toEqual(bare(server.data));
      expect(event.source).toBe(server.source);
    }
    expect(new Set(exposures.records.map((r) => r.key)).size).toBe(inside.length + 1);
  });

  it('refuses bad input with 400 naming the field, and more than 1,000 items', async () => {
    const cases: Array<[unknown, string]> = [
      [{ items: [{ experiment: 'client', userId: 'u', arm: 'A', phase: 0 }] }, 'items.0.phase'],
      [{ items: [{ experiment: 'client', userId: '', arm: 'A', phase: 1 }] }, 'items.0.userId'],
      [
        { items: [{ experiment: 'client', userId: 'u', arm: 'A', phase: 1, assignedAt: 'yesterday' }] },
        'items.0.assignedAt',
      ],
      [{ items: [{ experiment: 'client', userId: 'u', phase: 1 }] }, 'items.0.arm'],
      [{ items: [{ experiment: 'client', userId: 'u', arm: 'A', phase: 1, extra: true }] }, 'items.0'],
      [{ items: [] }, 'items'],
      [
        {
          items: Array.from({ length: 1_001 }, () => ({
            experiment: 'client',
            userId: 'u',
            arm: 'A',
            phase: 1,
          })),
        },
        'items',
      ],
    ];
    for (const [body, field] of cases) {
      const res = await app.request<{ error: { code: string; message: string } }>(
        'POST',
        '/v1/exposures',
        body,
      );
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.message).toContain(field);
    }
  });
});
