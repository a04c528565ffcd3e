import { pooledRandomBytes, pooledRandomHex } from './random-pool';

describe('random pool', () => {
  it('never hands out the same bytes twice, across many refills', () => {
    const seen = new Set<string>();
    // 16-byte draws: 8 KiB pools hold 512 of them; 5,000 draws span ~10 refills.
    for (let i = 0; i < 5_000; i++) {
      seen.add(i % 2 ? pooledRandomHex(16) : pooledRandomBytes(16).toString('hex'));
    }
    expect(seen.size).toBe(5_000);
  });

  it('hands out disjoint ranges of its buffers (checked on the views themselves)', () => {
    const byBuffer = new Map<ArrayBufferLike, Array<[number, number]>>();
    for (let i = 0; i < 3_000; i++) {
      const view = pooledRandomBytes(1 + (i % 24));
      const ranges = byBuffer.get(view.buffer) ?? [];
      ranges.push([view.byteOffset, view.byteOffset + view.length]);
      byBuffer.set(view.buffer, ranges);
    }
    // ~37,500 bytes: several refills, so several buffers.
    expect(byBuffer.size).toBeGreaterThan(3);
    for (const ranges of byBuffer.values()) {
      ranges.sort((a, b) => a[0] - b[0]);
      for (let k = 1; k < ranges.length; k++) expect(ranges[k][0]).toBeGreaterThanOrEqual(ranges[k - 1][1]);
    }
  });

  it('keeps the bytes of a view after the pool is refilled', () => {
    const view = pooledRandomBytes(32);
    const copy = Buffer.from(view);
    for (let i = 0; i < 1_000; i++) pooledRandomBytes(64);
    expect(view.equals(copy)).toBe(true);
  });

  it('gives hex of the asked length, and refuses sizes that are not 0 to a pool', () => {
    expect(pooledRandomHex(12)).toMatch(/^[0-9a-f]{24}$/);
    expect(pooledRandomBytes(0)).toHaveLength(0);
    for (const bad of [8 * 1024 + 1, -1, 1.5, Number.NaN])
      expect(() => pooledRandomBytes(bad)).toThrow(RangeError);
  });

  it('looks uniform: every byte value, each about as often (chi-square, 255 df)', () => {
    const counts = new Array<number>(256).fill(0);
    const n = 256 * 400;
    for (let i = 0; i < n / 64; i++) for (const b of pooledRandomBytes(64)) counts[b]++;
    const expected = n / 256;
    const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    // scipy.stats.chi2.ppf(1 - 1e-6, 255) = 377.08: fails by chance once in a million runs.
    expect(chi2).toBeLessThan(377.08);
  });
});
