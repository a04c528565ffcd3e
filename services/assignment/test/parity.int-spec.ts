/**
 * Parity (real Kafka, MongoDB and registry): the experiments of the shared parity fixture
 * (libs/experiments/fixtures/parity: ramps, a layer, targeting, forced users, a paused experiment)
 * are created through the API; then, for all 100,000 fixture users, POST /v1/assign/batch answers
 * exactly what `new CompiledExperiment(...)` of the snapshots GET /v1/experiments/snapshots serves
 * answers locally: arm, prompt, inExperiment, reason and phase. This is what the SDKs do.
 */
import { CompiledExperiment, type AssignResponse } from '@llmops/experiments';
import { createParityExperiments, parityFixture as fixture, parityUsers, testInfra } from '@llmops/testing';
import { type AssignmentApp, startAssignmentApp } from './support/assignment-app';
import type { RegistryHandle } from './support/registry';
import { startTestRegistry } from './support/test-registry';

/** Every field of a response, in a fixed order (the two sides may serialize keys differently). */
const answer = (r: AssignResponse): string =>
  JSON.stringify([
    r.experiment,
    r.arm,
    r.prompt.name,
    r.prompt.hash,
    r.inExperiment,
    r.reason,
    r.phase,
    Object.keys(r).length,
  ]);

interface Snapshots {
  project: string;
  experiments: ConstructorParameters<typeof CompiledExperiment>[1][];
}

describe('parity: POST /v1/assign/batch vs local CompiledExperiment on the served snapshots', () => {
  const infra = testInfra();
  let registry: RegistryHandle;
  let app: AssignmentApp;

  beforeAll(async () => {
    registry = await startTestRegistry(infra);
    app = await startAssignmentApp(infra, { REGISTRY_URL: registry.url });
    for (const p of fixture.prompts) {
      const hash = await registry.register(p.name, p.spec.template, p.spec.model);
      expect(hash).toBe(
        fixture.experiments.flatMap((e) => e.arms).find((a) => a.prompt.hash === hash)?.prompt.hash,
      );
    }
    await createParityExperiments((method, path, body) => app.request(method, path, body));
  });
  afterAll(async () => {
    await app?.close();
    await registry?.stop();
  });

  it('answers like local assignment for all 100,000 users of every fixture experiment', async () => {
    const served = await app.request<Snapshots>('GET', '/v1/experiments/snapshots');
    expect(served.status).toBe(200);
    const local = served.body.experiments.map((s) => new CompiledExperiment(served.body.project, s));
    expect(local.map((c) => c.key).sort()).toEqual(fixture.experiments.map((e) => e.key).sort());
    // The served snapshots are the fixture's experiments (what a client creating them gets).
    for (const e of fixture.experiments) {
      const s = served.body.experiments.find((x) => x.key === e.key)!;
      const { revision: _r, createdAt: _c, updatedAt: _u, ...rest } = e;
      expect(s).toMatchObject(rest);
    }

    const users = parityUsers();
    const mismatches: string[] = [];
    let compared = 0;
    const reasons = new Map<string, number>();
    const BATCH = 1_000;
    const batches: Array<{ experiment: CompiledExperiment; from: number }> = [];
    for (const experiment of local)
      for (let from = 0; from < users.length; from += BATCH) batches.push({ experiment, from });
    // A few batches in flight, so the exposures of one are acknowledged while the next is assigned.
    const run = async (): Promise<void> => {
      for (let next = batches.shift(); next; next = batches.shift()) {
        const { experiment, from } = next;
        const slice = users.slice(from, from + BATCH);
        // Attributes only matter to targeting; validating them is most of a batch's cost.
        const targeted = experiment.snapshot.targeting !== undefined;
        const res = await app.request<{ items: AssignResponse[] }>('POST', '/v1/assign/batch', {
          items: slice.map((u) =>
            targeted
              ? { experiment: experiment.key, ...u }
              : { experiment: experiment.key, userId: u.userId },
          ),
        });
        expect(res.status).toBe(200);
        res.body.items.forEach((remote, i) => {
          const mine = experiment.assign(
            slice[i].userId,
            targeted ? slice[i].attributes : undefined,
          ).response;
          compared++;
          reasons.set(mine.reason, (reasons.get(mine.reason) ?? 0) + 1);
          if (answer(remote) !== answer(mine) && mismatches.length < 20)
            mismatches.push(
              `${slice[i].userId}: server ${JSON.stringify(remote)} local ${JSON.stringify(mine)}`,
            );
        });
      }
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: 6 }, run));
    console.log(`parity: ${compared} assignments compared in ${Date.now() - started} ms`);
    expect(mismatches).toEqual([]);
    expect(compared).toBe(fixture.users.count * fixture.experiments.length);
    expect([...reasons.keys()].sort()).toEqual([
      'forced',
      'hash',
      'layer',
      'not-in-allocation',
      'not-running',
      'targeting',
    ]);
  }, 300_000);
});
