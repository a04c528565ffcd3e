import { createHash } from 'node:crypto';
import { DEFAULT_PROJECT } from '@llmops/contracts';
import { CompiledExperiment } from './compiled-experiment';
import { HASH_A, HASH_B, snapshot, threeArms } from '@llmops/testing';

/** scipy.stats.chi2.isf(0.001, 2): the statistic above which p < 0.001 with 3 arms. */
const CHI2_CRIT_DF2_P001 = 13.815510557964274;

function chiSquare(counts: number[], weights: number[]): number {
  const n = counts.reduce((a, b) => a + b, 0);
  const total = weights.reduce((a, b) => a + b, 0);
  return counts.reduce((acc, c, i) => {
    const expected = (n * weights[i]) / total;
    return acc + (c - expected) ** 2 / expected;
  }, 0);
}

const users = (n: number, prefix = 'user_'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('CompiledExperiment', () => {
  it('hashVersion 1 with arms [A: 1-s, B: s] is the reference formula', () => {
    const s = 0.3;
    const exp = new CompiledExperiment(
      DEFAULT_PROJECT,
      snapshot({
        seed: 'summarizer_prompt',
        arms: [
          { name: 'A', weight: 0.7, prompt: { name: 'p', ref: '1', hash: HASH_A } },
          { name: 'B', weight: 0.3, prompt: { name: 'p', ref: '2', hash: HASH_B } },
        ],
      }),
    );
    for (const u of [...users(500), 'ünï:cödé', '用户:1', '😀']) {
      const h = createHash('md5').update(`summarizer_prompt:${u}`, 'utf8').digest('hex');
      const bucket = parseInt(h.slice(0, 8), 16) / 0xffffffff;
      expect(exp.assign(u).response.arm).toBe(bucket < s ? 'B' : 'A');
    }
  });

  it('returns the documented response shape, control with inExperiment false outside', () => {
    const running = new CompiledExperiment(DEFAULT_PROJECT, snapshot({ trafficAllocation: 0.5 }));
    const outcomes = users(200).map((u) => running.assign(u));
    const inside = outcomes.find((o) => o.response.inExperiment)!;
    const outside = outcomes.find((o) => !o.response.inExperiment)!;
    expect(inside.exposed).toBeDefined();
    expect(inside.response).toEqual({
      experiment: 'exp',
      arm: inside.exposed!.name,
      prompt: { name: 'p', hash: inside.exposed!.name === 'A' ? HASH_A : HASH_B },
      inExperiment: true,
      reason: 'hash',
      phase: 1,
    });
    expect(outside.exposed).toBeUndefined();
    expect(outside.response).toEqual({
      experiment: 'exp',
      arm: 'A',
      prompt: { name: 'p', hash: HASH_A },
      inExperiment: false,
      reason: 'not-in-allocation',
      phase: 1,
    });
  });

  it('serves the control arm (also when it is not the first arm) with reason not-running unless running', () => {
    for (const status of ['draft', 'paused', 'stopped'] as const) {
      const exp = new CompiledExperiment(
        DEFAULT_PROJECT,
        snapshot({ status, control: 'B', forced: { qa: 'A' } }),
      );
      for (const u of ['u1', 'u2', 'qa']) {
        expect(exp.assign(u).response).toMatchObject({
          arm: 'B',
          inExperiment: false,
          reason: 'not-running',
        });
      }
    }
  });

  it('forced users get their arm regardless of targeting, allocation and layer', () => {
    const exp = new CompiledExperiment(
      DEFAULT_PROJECT,
      snapshot({
        forced: { 'qa-1': 'B', 'qa:2': 'A' },
        trafficAllocation: 0.01,
        layer: { name: 'L', range: [0, 0.01] },
        targeting: [{ attribute: 'country', op: 'equals', value: 'NOWHERE' }],
      }),
    );
    expect(exp.assign('qa-1').response).toMatchObject({ arm: 'B', inExperiment: true, reason: 'forced' });
    expect(exp.assign('qa:2').response).toMatchObject({ arm: 'A', inExperiment: true, reason: 'forced' });
    expect(exp.assign('qa-1').exposed?.name).toBe('B');
  });

  it('targeting misses get the control with reason targeting', () => {
    const exp = new CompiledExperiment(
      DEFAULT_PROJECT,
      snapshot({ targeting: [{ attribute: 'country', op: 'in', values: ['DE'] }] }),
    );
    expect(exp.assign('u1', { country: 'US' }).response).toMatchObject({
      arm: 'A',
      inExperiment: false,
      reason: 'targeting',
    });
    expect(exp.assign('u1').response.reason).toBe('targeting');
    expect(exp.assign('u1', { country: 'DE' }).response.reason).toBe('hash');
  });

  it('balance: 100,000 users at 0.2/0.3/0.5 pass chi-square at p > 0.001', () => {
    const weights: [number, number, number] = [0.2, 0.3, 0.5];
    const exp = new CompiledExperiment(
      DEFAULT_PROJECT,
      snapshot({ control: 'control', arms: threeArms(weights) }),
    );
    const index: Record<string, number> = { control: 0, short: 1, long: 2 };
    const counts = [0, 0, 0];
    for (const u of users(100_000)) counts[index[exp.assign(u).response.arm]]++;
    expect(chiSquare(counts, weights)).toBeLessThan(CHI2_CRIT_DF2_P001);
  });

  it('ramping 0.1 -> 0.5 -> 1.0 only adds users, never moves one, and stays balanced', () => {
    const weights: [number, number, number] = [0.2, 0.3, 0.5];
    const index: Record<string, number> = { control: 0, short: 1, long: 2 };
    const ids = users(100_000, 'ramp-');
    let previous = new Map<string, string>();
    for (const allocation of [0.1, 0.5, 1.0]) {
      const exp = new CompiledExperiment(
        DEFAULT_PROJECT,
        snapshot({
          control: 'control',
          arms: threeArms(weights),
          trafficAllocation: allocation,
          seed: 'ramp',
        }),
      );
      const current = new Map<string, string>();
      const counts = [0, 0, 0];
      for (const u of ids) {
        const r = exp.assign(u).response;
        if (!r.inExperiment) continue;
        current.set(u, r.arm);
        counts[index[r.arm]]++;
      }
      const moved = [...previous].filter(([u, arm]) => current.get(u) !== arm);
      expect(moved).toEqual([]);
      expect(current.size / ids.length).toBeCloseTo(allocation, 1);
      expect(chiSquare(counts, weights)).toBeLessThan(CHI2_CRIT_DF2_P001);
      previous = current;
    }
    expect(previous.size).toBe(ids.length);
  });

  it('two experiments in one layer with disjoint ranges never share a user', () => {
    const left = new CompiledExperiment(
      DEFAULT_PROJECT,
      snapshot({ key: 'left', seed: 'left', layer: { name: 'homepage', range: [0, 0.5] } }),
    );
    const right = new CompiledExperiment(
      DEFAULT_PROJECT,
      snapshot({ key: 'right', seed: 'right', layer: { name: 'homepage', range: [0.5, 1] } }),
    );
    let inLeft = 0;
    let inRight = 0;
    const shared: string[] = [];
    const uncovered: string[] = [];
    const reasons = new Set<string>();
    for (const u of users(50_000)) {
      const l = left.assign(u).response;
      const r = right.assign(u).response;
      if (l.inExperiment && r.inExperiment) shared.push(u);
      // Together the two halves cover everyone.
      if (!l.inExperiment && !r.inExperiment) uncovered.push(u);
      if (l.inExperiment) inLeft++;
      else reasons.add(l.reason);
      if (r.inExperiment) inRight++;
    }
    expect(shared).toEqual([]);
    expect(uncovered).toEqual([]);
    expect([...reasons]).toEqual(['layer']);
    expect(inLeft / 50_000).toBeCloseTo(0.5, 1);
    expect(inRight / 50_000).toBeCloseTo(0.5, 1);
  });

  it('counts every assignment on the pre-bound counter of its (arm, reason)', () => {
    const seen: string[] = [];
    const exp = new CompiledExperiment(
      'team-b',
      snapshot({ status: 'paused' }),
      (project, e, arm, reason) => ({
        inc: () => seen.push(`${project}/${e}/${arm}/${reason}`),
      }),
    );
    exp.assign('u');
    expect(seen).toEqual(['team-b/exp/A/not-running']);
  });
});
