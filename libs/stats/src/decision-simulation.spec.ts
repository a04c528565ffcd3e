import {
  DEFAULT_SCHEDULE,
  LATENCY,
  runGuardrailSimulation,
  runHolmAaSimulation,
  runPrimarySimulation,
} from '../scripts/decision-simulation';

// 1,000 seeded experiments per scenario, a look after every 20 users per arm up to 2,000 (100 looks);
// scripts/decision-simulation.ts prints the same figures (decision-simulation.output.txt).
const { runs, alpha } = DEFAULT_SCHEDULE;
const share = (count: number) => `${count} / ${runs} = ${(count / runs).toFixed(3)}`;

describe('decision simulations (continuous monitoring, 100 looks, α = 0.05)', () => {
  it('A/A: the primary always-valid test promotes at most α of 1,000 experiments', () => {
    const r = runPrimarySimulation({ kind: 'ratings' });
    console.log(`A/A promotions: ${share(r.promotions)} (decided "worse": ${share(r.decidedWorse)})`);
    expect(r.runs).toBe(1000);
    expect(r.looksPerRun).toBe(100);
    expect(r.degenerateLooks).toBe(0);
    expect(r.promotions / runs).toBeLessThanOrEqual(alpha);
    // Both directions together are the two-sided test's error, also at most α.
    expect((r.promotions + r.decidedWorse) / runs).toBeLessThanOrEqual(alpha);
  });

  it('A/B with a true effect of 0.3 sd: most are promoted within 500 users per arm', () => {
    const r = runPrimarySimulation({ kind: 'normal', effectSd: 0.3 });
    console.log(
      `A/B 0.3 sd: promoted within ${r.budgetPerArm} users/arm ${share(r.promotedWithinBudget)}; ` +
        `median users/arm until decision ${r.medianUsersPerArm}`,
    );
    expect(r.decidedWorse).toBe(0);
    expect(r.promotions).toBe(runs);
    expect(r.promotedWithinBudget / runs).toBeGreaterThan(0.5);
    // A fixed-horizon test with 80% power needs 175 per arm; an always-valid one pays for peeking,
    // and a broken (too liberal) one would decide after a handful of users.
    expect(r.medianUsersPerArm).toBeGreaterThan(100);
    expect(r.medianUsersPerArm).toBeLessThanOrEqual(500);
  });

  it('latency 30% higher with a 10% margin: the guardrail stops at least 95% of 1,000 experiments', () => {
    const r = runGuardrailSimulation({ ...LATENCY, ratio: 1.3 });
    console.log(
      `latency +30%: stopped ${share(r.breaches)}; median users/arm until stop ${r.medianUsersPerArm}`,
    );
    expect(r.degenerateLooks).toBe(0);
    expect(r.breaches / runs).toBeGreaterThanOrEqual(0.95);
  });

  it('latency equal, and latency exactly on the margin: the guardrail breaches at most α', () => {
    const equal = runGuardrailSimulation({ ...LATENCY, ratio: 1 });
    const onMargin = runGuardrailSimulation({ ...LATENCY, ratio: 1.1 });
    console.log(
      `latency equal: stopped ${share(equal.breaches)}; +10% (on the margin): ${share(onMargin.breaches)}`,
    );
    expect(equal.breaches / runs).toBeLessThanOrEqual(alpha);
    expect(onMargin.breaches / runs).toBeLessThanOrEqual(alpha);
  });

  it('Holm across 3 treatment arms in A/A keeps the family-wise error at most α', () => {
    const r = runHolmAaSimulation(3);
    console.log(
      `Holm, 3 arms A/A: family-wise error ${share(r.familyWiseErrors)}; unadjusted ${share(r.unadjustedErrors)}`,
    );
    expect(r.degenerateLooks).toBe(0);
    expect(r.familyWiseErrors / runs).toBeLessThanOrEqual(alpha);
    expect(r.familyWiseErrors).toBeLessThanOrEqual(r.unadjustedErrors);
  });
});
