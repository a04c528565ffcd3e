import { sampleSize, sampleSizeStatus, type SampleSizeInput } from './sample-size';
import { expectClose, reference, unwrap } from '../test/support/tolerance';

function field(o: object, key: string): number {
  const v: unknown = (o as Record<string, unknown>)[key];
  if (typeof v !== 'number') throw new Error(`fixture lacks numeric ${key}`);
  return v;
}

function inputOf(c: (typeof reference.sampleSize)[number]): SampleSizeInput {
  const arm = (o: object) => ({ n: field(o, 'n'), sum: field(o, 'sum'), sumSq: field(o, 'sumSq') });
  const trials = (o: object) => ({ n: field(o, 'n'), successes: field(o, 'successes') });
  return c.kind === 'mean'
    ? { kind: 'mean', control: arm(c.control), treatment: arm(c.treatment) }
    : { kind: 'proportion', control: trials(c.control), treatment: trials(c.treatment) };
}

describe('sampleSize', () => {
  it.each(reference.sampleSize)('$name matches the textbook formula', (c) => {
    const r = unwrap(sampleSize(inputOf(c)));
    expectClose(r.exactPerArm, c.exactPerArm);
    expect(r.neededPerArm).toBe(c.neededPerArm);
    expect(r).toMatchObject({ alpha: 0.05, power: 0.8 });
  });

  it('scales with (z_{1-α/2} + z_power)²', () => {
    const base = {
      kind: 'mean',
      control: { n: 10, sum: 10, sumSq: 19 },
      treatment: { n: 10, sum: 20, sumSq: 49 },
    } as const;
    const r80 = unwrap(sampleSize(base));
    const r90 = unwrap(sampleSize({ ...base, power: 0.9 }));
    expectClose(
      r90.exactPerArm / r80.exactPerArm,
      (1.959963984540054 + 1.2815515655446004) ** 2 / (1.959963984540054 + 0.8416212335729143) ** 2,
      1e-12,
    );
  });

  it.each([
    [
      'zero-effect',
      { kind: 'mean', control: { n: 4, sum: 8, sumSq: 20 }, treatment: { n: 4, sum: 8, sumSq: 18 } },
    ],
    [
      'zero-variance',
      { kind: 'mean', control: { n: 4, sum: 8, sumSq: 16 }, treatment: { n: 4, sum: 12, sumSq: 36 } },
    ],
    ['n<2', { kind: 'mean', control: { n: 1, sum: 8, sumSq: 64 }, treatment: { n: 4, sum: 12, sumSq: 40 } }],
    [
      'no-data',
      { kind: 'mean', control: { n: 0, sum: 0, sumSq: 0 }, treatment: { n: 4, sum: 12, sumSq: 40 } },
    ],
    [
      'zero-effect',
      { kind: 'proportion', control: { n: 100, successes: 0 }, treatment: { n: 50, successes: 0 } },
    ],
    ['no-data', { kind: 'proportion', control: { n: 0, successes: 0 }, treatment: { n: 50, successes: 3 } }],
    [
      'invalid-input',
      { kind: 'proportion', control: { n: 10, successes: 1 }, treatment: { n: 10, successes: 2 }, alpha: 0 },
    ],
    [
      'invalid-input',
      { kind: 'proportion', control: { n: 10, successes: 1 }, treatment: { n: 10, successes: 2 }, power: 1 },
    ],
  ] as const)('%s', (reason, input) => {
    expect(sampleSize(input)).toMatchObject({ ok: false, reason });
  });
});

describe('sampleSizeStatus', () => {
  it('uses the 200 / 500 defaults and requires every arm to reach the minimum', () => {
    expect(sampleSizeStatus({ armCounts: [250, 199] })).toEqual({
      minimumPerArm: 200,
      recommendedPerArm: 500,
      reached: false,
      recommendedReached: false,
      neededPerArm: null,
      neededReason: null,
    });
    expect(sampleSizeStatus({ armCounts: [200, 200, 600] })).toMatchObject({
      reached: true,
      recommendedReached: false,
    });
    expect(sampleSizeStatus({ armCounts: [500, 501] })).toMatchObject({
      reached: true,
      recommendedReached: true,
    });
  });

  it('is not reached with no arms', () => {
    expect(sampleSizeStatus({ armCounts: [] }).reached).toBe(false);
  });

  it('accepts custom thresholds and plans from the observed effect', () => {
    const s = sampleSizeStatus({
      armCounts: [1000, 1000],
      minimumPerArm: 1000,
      recommendedPerArm: 5000,
      effect: {
        kind: 'proportion',
        control: { n: 1000, successes: 100 },
        treatment: { n: 1000, successes: 130 },
      },
    });
    const c = reference.sampleSize.find((x) => x.name === 'proportion 100/1000 vs 130/1000');
    expect(s).toMatchObject({
      minimumPerArm: 1000,
      recommendedPerArm: 5000,
      reached: true,
      neededPerArm: c?.neededPerArm,
    });
  });

  it('reports why neededPerArm is null', () => {
    const s = sampleSizeStatus({
      armCounts: [10, 10],
      effect: { kind: 'proportion', control: { n: 10, successes: 1 }, treatment: { n: 10, successes: 1 } },
    });
    expect(s).toMatchObject({ neededPerArm: null, neededReason: 'zero-effect' });
  });
});
