import { ExperimentSnapshotSchema } from '@llmops/contracts';
import { promptHash } from '@llmops/hashing';
import fixture from '../fixtures/parity/experiments.json';
import { type AssignReason, CompiledExperiment } from './compiled-experiment';
import type { Attributes } from './targeting';

/** The parity fixture every SDK and the service assign: valid, and exercising every rule. */
describe('parity fixture (fixtures/parity/experiments.json)', () => {
  const experiments = fixture.experiments.map((e) => ExperimentSnapshotSchema.parse(e));
  const { description: _d, ...cycles } = fixture.attributes;
  const attributesOf = (i: number): Attributes =>
    Object.fromEntries(Object.entries(cycles).map(([name, { cycle }]) => [name, cycle[i % cycle.length]]));

  it('holds valid experiment snapshots whose arm prompts are the hashes of its prompts', () => {
    const hashes = new Set(fixture.prompts.map((p) => promptHash(p.spec).hash));
    for (const e of experiments) {
      for (const arm of e.arms) {
        expect(hashes).toContain(arm.prompt.hash);
        expect(arm.prompt.ref).toBe(arm.prompt.hash);
      }
    }
    expect(attributesOf(7)).toEqual({ country: 'US', plan: 'pro', beta: false, cohort: 0 });
  });

  it('gives every reason, in experiments with ramps, a layer, targeting and forced users', () => {
    const compiled = experiments.map((e) => new CompiledExperiment('default', e));
    const reasons = new Map<string, Set<AssignReason>>();
    for (let i = 0; i < fixture.users.count; i++) {
      const userId = `${fixture.users.prefix}${i}`;
      const attributes = attributesOf(i);
      for (const c of compiled) {
        const set = reasons.get(c.key) ?? new Set();
        set.add(c.assign(userId, attributes).response.reason);
        reasons.set(c.key, set);
      }
    }
    const all = new Set([...reasons.values()].flatMap((s) => [...s]));
    expect([...all].sort()).toEqual([
      'forced',
      'hash',
      'layer',
      'not-in-allocation',
      'not-running',
      'targeting',
    ]);
    expect([...reasons.get('parity-layer-b')!].sort()).toEqual(['forced', 'hash', 'layer', 'targeting']);
    expect(experiments.some((e) => e.trafficAllocation < 1)).toBe(true);
  });
});
