/**
 * Two (three) replicas agree on every assignment. Replica B boots later on the same MongoDB and
 * rebuilds from it; replica C boots with an EMPTY database and rebuilds from the compacted
 * experiments topic alone. A change made on A reaches B and C through the topic.
 */
import { expectEventually, testInfra } from '@llmops/testing';
import { type AssignmentApp, startAssignmentApp } from './support/assignment-app';
import { createRunning, registeredArms } from './support/fixtures';
import type { RegistryHandle } from './support/registry';
import { startTestRegistry } from './support/test-registry';

type Item = { arm: string; inExperiment: boolean; reason: string; phase: number };

const USERS = Array.from({ length: 2_000 }, (_, i) => (i % 7 === 0 ? `tenant:${i}:ü${i}` : `user-${i}`));
const EXPERIMENTS = ['two-arms', 'three-arms-half', 'layered'];

async function assignments(app: AssignmentApp): Promise<string[]> {
  const out: string[] = [];
  for (const experiment of EXPERIMENTS) {
    for (let i = 0; i < USERS.length; i += 1_000) {
      const items = USERS.slice(i, i + 1_000).map((userId) => ({ experiment, userId }));
      const res = await app.request<{ items: Item[] }>('POST', '/v1/assign/batch', { items });
      expect(res.status).toBe(200);
      out.push(...res.body.items.map((r) => `${r.arm}/${r.inExperiment}/${r.reason}/${r.phase}`));
    }
  }
  return out;
}

describe('determinism across replicas', () => {
  const infra = testInfra();
  let registry: RegistryHandle;
  const apps: AssignmentApp[] = [];

  beforeAll(async () => {
    registry = await startTestRegistry(infra);
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await registry?.stop();
  });

  it('a replica booted later, from MongoDB or from the topic alone, agrees on every assignment', async () => {
    const a = await startAssignmentApp(infra, { REGISTRY_URL: registry.url });
    apps.push(a);
    await createRunning(a, {
      key: 'two-arms',
      arms: await registeredArms(registry, 'p1', [
        ['A', 0.5],
        ['B', 0.5],
      ]),
    });
    await createRunning(a, {
      key: 'three-arms-half',
      trafficAllocation: 0.5,
      arms: await registeredArms(registry, 'p2', [
        ['control', 0.2],
        ['short', 0.3],
        ['long', 0.5],
      ]),
    });
    await createRunning(a, {
      key: 'layered',
      layer: { name: 'homepage', range: [0.2, 0.7] },
      arms: await registeredArms(registry, 'p3', [
        ['A', 1],
        ['B', 1],
      ]),
    });
    const onA = await assignments(a);
    expect(new Set(onA).size).toBeGreaterThan(5); // several distinct outcomes, not one constant answer

    const b = await startAssignmentApp(infra, { REGISTRY_URL: registry.url });
    apps.push(b);
    expect(await assignments(b)).toEqual(onA);

    const c = await startAssignmentApp(infra, {
      REGISTRY_URL: registry.url,
      MONGODB_DB: `${infra.dbName}_empty`,
    });
    apps.push(c);
    expect((await c.request<{ items: unknown[] }>('GET', '/v1/experiments')).body.items).toEqual([]);
    await expectEventually(async () => expect(await assignments(c)).toEqual(onA), {
      timeoutMs: 30_000,
      intervalMs: 500,
    });

    // A change on A (ramp up, then a new phase) reaches B and C through the topic.
    expect(
      (await a.request('PATCH', '/v1/experiments/three-arms-half', { trafficAllocation: 0.9 })).status,
    ).toBe(200);
    expect((await a.request('POST', '/v1/experiments/two-arms/phases', {})).status).toBe(201);
    const changed = await assignments(a);
    expect(changed).not.toEqual(onA);
    await expectEventually(async () => expect(await assignments(b)).toEqual(changed), {
      timeoutMs: 30_000,
      intervalMs: 500,
    });
    await expectEventually(async () => expect(await assignments(c)).toEqual(changed), {
      timeoutMs: 30_000,
      intervalMs: 500,
    });
  });
});
