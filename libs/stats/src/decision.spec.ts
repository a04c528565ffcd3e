import { parseDecisionPolicy } from '@llmops/contracts';
import {
  evaluateDecision,
  guardrailKey,
  type DecisionArms,
  type DecisionEvaluation,
  type DecisionPolicy,
  type DecisionState,
} from './decision';
import { holmAdjust } from './holm';
import { nonInferiorityTest } from './non-inferiority';
import { mulberry32 } from './random';
import { sampler } from '../scripts/aa-simulation';
import { accumulateAlwaysValid, sequentialTest } from './sequential';
import type { MeanStats } from './sufficient-stats';
import { unwrap } from '../test/support/tolerance';

/** Aggregates of n values with exactly this mean and sample sd. */
const agg = (n: number, mean: number, sd: number): MeanStats => ({
  n,
  sum: n * mean,
  sumSq: (n - 1) * sd * sd + n * mean * mean,
});

const policy: DecisionPolicy = { primary: 'rating', direction: 'increase', alpha: 0.05, guardrails: [] };

function arms(control: MeanStats, ...treatments: MeanStats[]): DecisionArms {
  return {
    control: 'A',
    arms: [control, ...treatments].map((rating, i) => ({
      arm: String.fromCharCode(65 + i),
      metrics: { rating },
    })),
  };
}

describe('evaluateDecision', () => {
  it('continues while the always-valid test has not decided', () => {
    const r = unwrap(evaluateDecision(policy, arms(agg(50, 3.5, 1), agg(50, 3.6, 1))));
    expect(r.verdict).toBe('continue');
    expect(r.winner).toBeNull();
    expect(r.primary[0]).toMatchObject({ arm: 'B', decided: null, reason: null });
    expect(r.primary[0].pValue).toBe(unwrap(sequentialTest(agg(50, 3.5, 1), agg(50, 3.6, 1))).pValue);
  });

  it('declares a winner when the treatment is better in the policy direction', () => {
    const r = unwrap(evaluateDecision(policy, arms(agg(2000, 3.5, 1), agg(2000, 3.8, 1))));
    expect(r.verdict).toBe('winner');
    expect(r.winner).toBe('B');
    expect(r.primary[0].decided).toBe('better');
    expect(r.primary[0].adjustedPValue).toBe(r.primary[0].pValue);
  });

  it('does not promote an arm that is better in the other direction', () => {
    const down = { ...policy, direction: 'decrease' as const };
    const r = unwrap(evaluateDecision(down, arms(agg(2000, 3.5, 1), agg(2000, 3.8, 1))));
    expect(r.primary[0].decided).toBe('worse');
    // Without an MDE an arm decided worse settles the experiment as "no treatment beats control".
    expect(r.verdict).toBe('no-difference');
    const win = unwrap(evaluateDecision(down, arms(agg(2000, 3.8, 1), agg(2000, 3.5, 1))));
    expect(win).toMatchObject({ verdict: 'winner', winner: 'B' });
  });

  it('Holm-adjusts the primary p-values across treatment arms and picks the largest improvement', () => {
    const input = arms(agg(3000, 3.5, 1), agg(3000, 3.62, 1), agg(3000, 3.55, 1), agg(3000, 3.7, 1));
    const r = unwrap(evaluateDecision(policy, input));
    const raw = r.primary.map((p) => p.pValue as number);
    expect(r.primary.map((p) => p.adjustedPValue)).toEqual(holmAdjust(raw));
    expect(r.primary.map((p) => p.arm)).toEqual(['B', 'C', 'D']);
    expect(r.verdict).toBe('winner');
    expect(r.winner).toBe('D');
  });

  it('keeps a decision once made: the running minimum p-value does not go back up', () => {
    let state: DecisionState | null = null;
    const first = unwrap(evaluateDecision(policy, arms(agg(1000, 3.5, 1), agg(1000, 3.75, 1)), state));
    expect(first.verdict).toBe('winner');
    state = first.state;
    // More data in which the effect has shrunk: this look alone would not decide.
    const laterLook = unwrap(sequentialTest(agg(3000, 3.5, 1), agg(3000, 3.52, 1)));
    expect(laterLook.pValue).toBeGreaterThan(0.05);
    const second = unwrap(evaluateDecision(policy, arms(agg(3000, 3.5, 1), agg(3000, 3.52, 1)), state));
    expect(second).toMatchObject({ verdict: 'winner', winner: 'B' });
    expect(second.primary[0].pValue).toBe(first.primary[0].pValue);
    expect(second.state.arms[0].primary?.looks).toBe(2);
    // The same fold accumulateAlwaysValid does.
    const folded = accumulateAlwaysValid(
      accumulateAlwaysValid(null, unwrap(sequentialTest(agg(1000, 3.5, 1), agg(1000, 3.75, 1)))),
      laterLook,
    );
    expect(second.state.arms[0].primary).toMatchObject(folded);
  });

  it('starts afresh when the primary metric, direction, MDE or alpha changes, never deciding on old minima', () => {
    // Rating: B decided worse (no-difference). Toxicity: identical arms.
    const twoMetrics = (): DecisionArms => ({
      control: 'A',
      arms: [
        { arm: 'A', metrics: { rating: agg(2000, 3.8, 1), 'score:toxicity': agg(2000, 0.2, 0.1) } },
        { arm: 'B', metrics: { rating: agg(2000, 3.5, 1), 'score:toxicity': agg(2000, 0.2, 0.1) } },
      ],
    });
    const onRating = unwrap(evaluateDecision(policy, twoMetrics()));
    expect(onRating).toMatchObject({ verdict: 'no-difference' });
    expect(onRating.primary[0].decided).toBe('worse');
    const toxicity: DecisionPolicy = { ...policy, primary: 'score:toxicity', direction: 'decrease' };
    const changed = unwrap(evaluateDecision(toxicity, twoMetrics(), onRating.state));
    expect(changed).toMatchObject({ verdict: 'continue', winner: null });
    expect(changed.primary[0]).toMatchObject({ decided: null });
    expect(changed.state.arms[0].primary?.looks).toBe(1);
    expect(changed).toEqual(unwrap(evaluateDecision(toxicity, twoMetrics())));
    // A different alpha, direction or MDE also drops the minima; the same policy keeps them.
    for (const other of [
      { ...policy, alpha: 0.1 },
      { ...policy, direction: 'decrease' as const },
      { ...policy, minimumDetectableEffect: 0.1 },
    ]) {
      expect(unwrap(evaluateDecision(other, twoMetrics(), onRating.state)).state.arms[0].primary?.looks).toBe(
        1,
      );
    }
    expect(unwrap(evaluateDecision(policy, twoMetrics(), onRating.state)).state.arms[0].primary?.looks).toBe(
      2,
    );
  });

  describe('guardrails', () => {
    const latency = (control: MeanStats, treatment: MeanStats, rating = agg(2000, 3.5, 1)): DecisionArms => ({
      control: 'A',
      arms: [
        { arm: 'A', metrics: { rating: agg(2000, 3.5, 1), latencyMs: control } },
        { arm: 'B', metrics: { rating, latencyMs: treatment } },
      ],
    });
    const guarded: DecisionPolicy = {
      ...policy,
      guardrails: [{ metric: 'latencyMs', maxRelativeIncrease: 0.1 }],
    };

    it('reports a breach, which takes precedence over a winner on the primary metric', () => {
      const input = latency(agg(500, 800, 400), agg(500, 1040, 520), agg(2000, 3.8, 1));
      const r = unwrap(evaluateDecision(guarded, input));
      expect(r.primary[0].decided).toBe('better');
      expect(r.verdict).toBe('guardrail-breach');
      expect(r.winner).toBeNull();
      const expected = unwrap(
        nonInferiorityTest(agg(500, 800, 400), agg(500, 1040, 520), { maxRelativeIncrease: 0.1 }),
      );
      expect(r.guardrails).toEqual([
        {
          guardrail: 'latencyMs maxRelativeIncrease=0.1',
          metric: 'latencyMs',
          arm: 'B',
          scale: 'log-ratio',
          diff: expected.diff,
          relativeChange: expected.relativeChange,
          breachPValue: expected.breachPValue,
          adjustedBreachPValue: expected.breachPValue,
          nonInferiorityPValue: expected.nonInferiorityPValue,
          adjustedNonInferiorityPValue: expected.nonInferiorityPValue,
          breached: true,
          reason: null,
        },
      ]);
    });

    it('lets a winner through when latency is within the margin', () => {
      const r = unwrap(
        evaluateDecision(guarded, latency(agg(500, 800, 400), agg(500, 810, 400), agg(2000, 3.8, 1))),
      );
      expect(r).toMatchObject({ verdict: 'winner', winner: 'B' });
      expect(r.guardrails[0].breached).toBe(false);
    });

    it('keeps the running minimum of the breach p-value per guardrail in the state', () => {
      const first = unwrap(evaluateDecision(guarded, latency(agg(200, 800, 400), agg(200, 1000, 500))));
      expect(first.state.arms[0].guardrails).toEqual([
        expect.objectContaining({ guardrail: guardrailKey(guarded.guardrails![0]), looks: 1 }),
      ]);
      const second = unwrap(
        evaluateDecision(guarded, latency(agg(400, 800, 400), agg(400, 800, 400)), first.state),
      );
      expect(second.guardrails[0].breachPValue).toBe(first.guardrails[0].breachPValue);
      expect(second.state.arms[0].guardrails[0].looks).toBe(2);
    });

    it('reports why a guardrail has no statistic, and continues', () => {
      const r = unwrap(
        evaluateDecision(guarded, latency(agg(500, 800, 400), { n: 1, sum: 700, sumSq: 490_000 })),
      );
      expect(r.guardrails[0]).toMatchObject({
        breachPValue: null,
        adjustedBreachPValue: null,
        breached: false,
        reason: 'n<2',
      });
    });
  });

  describe('no-difference with a minimum detectable effect', () => {
    const withMde: DecisionPolicy = { ...policy, minimumDetectableEffect: 0.2 };

    it('is declared once every arm is shown to improve by less than the MDE', () => {
      const r = unwrap(
        evaluateDecision(withMde, arms(agg(3000, 3.5, 1), agg(3000, 3.5, 1), agg(3000, 3.52, 1))),
      );
      expect(r.verdict).toBe('no-difference');
      expect(r.primary.every((p) => (p.adjustedFutilityPValue as number) < 0.05)).toBe(true);
      expect(r.primary.map((p) => p.adjustedFutilityPValue)).toEqual(
        holmAdjust(r.primary.map((p) => p.futilityPValue as number)),
      );
    });

    it('is not declared while one arm could still beat control by the MDE', () => {
      const r = unwrap(
        evaluateDecision(withMde, arms(agg(3000, 3.5, 1), agg(3000, 3.5, 1), agg(60, 3.6, 1))),
      );
      expect(r.verdict).toBe('continue');
    });
  });

  it('reports degenerate arms with their reason and counts them as p = 1 in Holm', () => {
    const r = unwrap(
      evaluateDecision(policy, arms(agg(500, 3.5, 1), agg(500, 3.9, 1), { n: 0, sum: 0, sumSq: 0 })),
    );
    expect(r.primary[1]).toMatchObject({ arm: 'C', pValue: null, adjustedPValue: null, reason: 'no-data' });
    expect(r.primary[0].adjustedPValue).toBe(holmAdjust([r.primary[0].pValue as number, 1])[0]);
  });

  it('treats a metric an arm has no aggregates for as no data', () => {
    const input: DecisionArms = {
      control: 'A',
      arms: [
        { arm: 'A', metrics: {} },
        { arm: 'B', metrics: {} },
      ],
    };
    expect(unwrap(evaluateDecision(policy, input)).primary[0].reason).toBe('no-data');
  });

  it('takes the policy validated by @llmops/contracts as it is', () => {
    const parsed = parseDecisionPolicy({
      primary: 'rating',
      direction: 'increase',
      guardrails: [{ metric: 'latencyMs', maxRelativeIncrease: 0.1 }],
      autoStop: { onGuardrailBreach: true },
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    const validated: DecisionPolicy = parsed.value; // the compile-time check
    const input: DecisionArms = {
      control: 'A',
      arms: [
        { arm: 'A', metrics: { rating: agg(100, 3.5, 1), latencyMs: agg(100, 800, 400) } },
        { arm: 'B', metrics: { rating: agg(100, 3.5, 1), latencyMs: agg(100, 800, 400) } },
      ],
    };
    expect(unwrap(evaluateDecision(validated, input))).toMatchObject({ verdict: 'continue', alpha: 0.05 });
  });

  it.each([
    ['alpha 0', { ...policy, alpha: 0 }, arms(agg(10, 1, 1), agg(10, 1, 1)), 'invalid-input'],
    ['alpha above 0.5', { ...policy, alpha: 0.6 }, arms(agg(10, 1, 1), agg(10, 1, 1)), 'invalid-input'],
    [
      'negative MDE',
      { ...policy, minimumDetectableEffect: -1 },
      arms(agg(10, 1, 1), agg(10, 1, 1)),
      'invalid-input',
    ],
    ['unknown control', policy, { ...arms(agg(10, 1, 1), agg(10, 1, 1)), control: 'Z' }, 'invalid-input'],
    ['control only', policy, arms(agg(10, 1, 1)), 'fewer-than-2-arms'],
  ] as const)('rejects %s', (_, p, input, reason) => {
    expect(evaluateDecision(p, input)).toMatchObject({ ok: false, reason });
  });

  it('A/A with 2 treatment arms, evaluated after every batch: winners at most α of 300 experiments', () => {
    const runs = 300;
    let winners = 0;
    for (let run = 0; run < runs; run++) {
      const draw = sampler('ratings', mulberry32(1000 + run));
      const sums = [0, 1, 2].map(() => ({ n: 0, sum: 0, sumSq: 0 }));
      let state: DecisionState | null = null;
      for (let look = 0; look < 50; look++) {
        for (let i = 0; i < 20; i++) {
          for (const s of sums) {
            const x = draw();
            s.n++;
            s.sum += x;
            s.sumSq += x * x;
          }
        }
        const [control, ...treatments] = sums.map((s) => ({ ...s }));
        const r: DecisionEvaluation = unwrap(evaluateDecision(policy, arms(control, ...treatments), state));
        state = r.state;
        if (r.verdict === 'winner') {
          winners++;
          break;
        }
      }
    }
    expect(winners / runs).toBeLessThanOrEqual(0.05);
  });
});
