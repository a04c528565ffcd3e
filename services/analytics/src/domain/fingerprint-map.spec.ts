import { FingerprintMap } from './fingerprint-map';

describe('FingerprintMap', () => {
  it('maps every key to its value, exactly, through several growths', () => {
    const map = new FingerprintMap(4);
    const n = 50_000;
    for (let i = 0; i < n; i++) map.set(`e|A|user-${i}`, i);
    expect(map.size).toBe(n);
    for (let i = 0; i < n; i++) expect(map.get(`e|A|user-${i}`)).toBe(i);
    // Keys that differ by one character, or only by the arm, are other keys.
    expect(map.get(`e|A|user-${n}`)).toBeUndefined();
    expect(map.get('e|B|user-1')).toBeUndefined();
    expect(map.get('e|A|user-1 ')).toBeUndefined();
  });

  it('overwrites the value of a key already present, and keeps offsets beyond 32 bits', () => {
    const map = new FingerprintMap();
    map.set('k', 1);
    map.set('k', 2 ** 40 + 3);
    expect(map.size).toBe(1);
    expect(map.get('k')).toBe(2 ** 40 + 3);
  });

  it('getOrSet returns the value of a key present, and stores one absent (returning undefined)', () => {
    const map = new FingerprintMap(4);
    for (let i = 0; i < 1_000; i++) expect(map.getOrSet(`u${i}`, i)).toBeUndefined();
    for (let i = 0; i < 1_000; i++) expect(map.getOrSet(`u${i}`, -1)).toBe(i);
    expect(map.size).toBe(1_000);
  });
});
