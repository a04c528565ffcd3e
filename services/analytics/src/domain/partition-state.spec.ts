import { RequestPlacements } from './partition-state';

describe('RequestPlacements', () => {
  it('answers each request its placement, shared per (experiment, arm), and sets only the absent', () => {
    const requests = new RequestPlacements();
    for (let i = 0; i < 10_000; i++) {
      const arm = i % 3 === 0 ? null : i % 3 === 1 ? 'A' : 'B';
      expect(requests.setIfAbsent(`req-${i}`, arm === null ? null : 'e', arm)).toBe(true);
    }
    expect(requests.size).toBe(10_000);
    expect(requests.get('req-0')).toEqual({ exp: null, arm: null });
    expect(requests.get('req-1')).toEqual({ exp: 'e', arm: 'A' });
    expect(requests.get('req-2')).toEqual({ exp: 'e', arm: 'B' });
    expect(requests.get('req-4')).toBe(requests.get('req-1'));
    expect(requests.has('req-10000')).toBe(false);
    expect(requests.get('req-10000')).toBeUndefined();
    // A request already placed keeps its placement; set moves it.
    expect(requests.setIfAbsent('req-1', 'e', 'B')).toBe(false);
    expect(requests.get('req-1')).toEqual({ exp: 'e', arm: 'A' });
    requests.set('req-1', 'other', 'C');
    expect(requests.get('req-1')).toEqual({ exp: 'other', arm: 'C' });
    // An experiment without an arm is no placement.
    requests.set('req-x', 'e', null);
    expect(requests.get('req-x')).toEqual({ exp: null, arm: null });
    expect(requests.size).toBe(10_001);
  });
});

describe('RequestPlacements retention', () => {
  const HOUR = 3_600_000;
  const T0 = Date.parse('2025-01-08T00:00:00.000Z');

  it('holds a request at least one horizon after it was recorded, and forgets it within two', () => {
    const requests = new RequestPlacements(T0);
    expect(requests.rotate(T0 + HOUR / 2, HOUR)).toBe(0);
    requests.setIfAbsent('early', 'e', 'A'); // recorded at 0.5 h
    expect(requests.rotate(T0 + HOUR, HOUR)).toBe(0); // the generation is a horizon old: it becomes the previous one
    requests.setIfAbsent('late', 'e', 'B'); // recorded at 1 h, in the new current generation
    expect(requests.get('early')).toEqual({ exp: 'e', arm: 'A' });
    expect(requests.size).toBe(2);
    // Still known through the previous generation: no second record, and set moves it there.
    expect(requests.setIfAbsent('early', 'e', 'B')).toBe(false);
    requests.set('early', 'e', 'B');
    expect(requests.get('early')).toEqual({ exp: 'e', arm: 'B' });
    expect(requests.size).toBe(2);

    expect(requests.rotate(T0 + 2 * HOUR - 1, HOUR)).toBe(0);
    expect(requests.has('early')).toBe(true); // 1.5 h after it was recorded
    expect(requests.rotate(T0 + 2 * HOUR, HOUR)).toBe(1);
    expect(requests.has('early')).toBe(false);
    expect(requests.get('late')).toEqual({ exp: 'e', arm: 'B' }); // 1 h after it was recorded
    expect(requests.rotate(T0 + 3 * HOUR, HOUR)).toBe(1);
    expect(requests.size).toBe(0);
    // A request forgotten is unknown: recorded again as new.
    expect(requests.setIfAbsent('early', 'e', 'A')).toBe(true);
  });

  it('after two idle horizons forgets both generations at once', () => {
    const requests = new RequestPlacements(T0);
    requests.setIfAbsent('a', 'e', 'A');
    expect(requests.rotate(T0 + HOUR, HOUR)).toBe(0);
    requests.setIfAbsent('b', 'e', 'A');
    // No batch for two horizons: 'b' was recorded before T0 + 2 h, more than a horizon ago.
    expect(requests.rotate(T0 + 3 * HOUR, HOUR)).toBe(2);
    expect(requests.size).toBe(0);
  });

  it('memory follows the traffic of the horizon, not all traffic: a steady stream stays at two generations', () => {
    const requests = new RequestPlacements(T0);
    const perHour = 1_000;
    for (let hour = 0; hour < 10; hour++) {
      for (let i = 0; i < perHour; i++) {
        requests.rotate(T0 + hour * HOUR + i, HOUR);
        requests.setIfAbsent(`h${hour}-${i}`, 'e', 'A');
      }
      expect(requests.size).toBeLessThanOrEqual(2 * perHour);
    }
    expect(requests.size).toBeGreaterThanOrEqual(perHour);
  });
});
