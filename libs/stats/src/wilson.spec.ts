import { wilsonInterval } from './wilson';
import { expectClose, expectNoNaN, expectPair, reference, unwrap } from '../test/support/tolerance';

describe('wilsonInterval', () => {
  it.each(reference.wilson)('n=$n successes=$successes at $confidence matches the textbook formula', (c) => {
    const r = unwrap(wilsonInterval(c.n, c.successes, c.confidence));
    expect(r).toMatchObject({ n: c.n, successes: c.successes, confidence: c.confidence });
    expectClose(r.rate, c.rate);
    expectPair(r.ci95, c.ci);
  });

  it('defaults to 95% and gives an exact 0 lower bound at zero successes', () => {
    const r = unwrap(wilsonInterval(50, 0));
    expect(r.confidence).toBe(0.95);
    expect(r.ci95[0]).toBe(0);
    expect(r.ci95[1]).toBeGreaterThan(0);
    expectNoNaN(r);
  });

  it('never exceeds 1 at all successes', () => {
    const r = unwrap(wilsonInterval(7, 7));
    expect(r.ci95[1]).toBeLessThanOrEqual(1);
    expect(r.ci95[0]).toBeGreaterThan(0);
  });

  it.each([
    ['no-data', 0, 0, 0.95],
    ['invalid-input', 10, 11, 0.95],
    ['invalid-input', 10, -1, 0.95],
    ['invalid-input', 10, 2.5, 0.95],
    ['invalid-input', 10, 2, 1],
    ['invalid-input', 10, 2, 0],
  ] as const)('%s for n=%d successes=%d confidence=%d', (reason, n, s, conf) => {
    expect(wilsonInterval(n, s, conf)).toMatchObject({ ok: false, reason });
  });
});
