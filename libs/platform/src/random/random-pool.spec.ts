import { pooledRandomHex } from './random-pool';

describe('random pool', () => {
  it('never hands out the same bytes twice, across many refills', () => {
    const seen = new Set<string>();
    // 16-byte draws: 8 KiB pools hold 512 of them; 5,000 draws span ~10 refills.
    for (let i = 0; i < 5_000; i++) seen.add(pooledRandomHex(16));
    expect(seen.size).toBe(5_000);
  });

  it('gives hex of the asked length, and refuses sizes that are not 0 to a pool', () => {
    expect(pooledRandomHex(12)).toMatch(/^[0-9a-f]{24}$/);
    expect(pooledRandomHex(0)).toBe('');
    for (const bad of [8 * 1024 + 1, -1, 1.5, Number.NaN])
      expect(() => pooledRandomHex(bad)).toThrow(RangeError);
  });

  it('looks uniform: every byte value, each about as often (chi-square, 255 df)', () => {
    const counts = new Array<number>(256).fill(0);
    const n = 256 * 400;
    for (let i = 0; i < n / 64; i++) {
      for (const b of Buffer.from(pooledRandomHex(64), 'hex')) counts[b]++;
    }
    const expected = n / 256;
    const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    // scipy.stats.chi2.ppf(1 - 1e-6, 255) = 377.08: fails by chance once in a million runs.
    expect(chi2).toBeLessThan(377.08);
  });
});
