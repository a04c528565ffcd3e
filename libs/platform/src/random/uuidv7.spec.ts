import { uuidv7, uuidv7Time } from './uuidv7';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidv7', () => {
  it('carries the millisecond asked, and sorts by it', () => {
    const a = uuidv7(1_700_000_000_000);
    const b = uuidv7(1_700_000_000_001);
    expect(a).toMatch(UUID_V7);
    expect(a.slice(0, 13)).toBe('018bcfe5-6800');
    expect(a < b).toBe(true);
    expect(uuidv7Time(a)).toBe(1_700_000_000_000);
    expect(uuidv7Time(uuidv7(0))).toBe(0);
    expect(uuidv7Time(uuidv7(2 ** 48 - 1))).toBe(2 ** 48 - 1);
  });

  it('defaults to now, each id unique and greater than the one before', () => {
    const before = Date.now();
    const ids = Array.from({ length: 5_000 }, () => uuidv7());
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => UUID_V7.test(id))).toBe(true);
    expect(uuidv7Time(ids[0]!)).toBeGreaterThanOrEqual(before);
    expect(uuidv7Time(ids.at(-1)!)).toBeLessThanOrEqual(Date.now() + 1);
  });
});
