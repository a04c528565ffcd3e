import { RequestPlacements } from './partition-state';

describe('RequestPlacements', () => {
  it('answers each request its placement, shared per (experiment, arm), and sets only the absent', () => {
    const requests = new RequestPlacements(0);
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

  it('holds a request at least one horizon after it was recorded, and forgets it by the first rotate two horizons after', () => {
    const requests = new RequestPlacements(T0);
    expect(requests.rotate(T0 + HOUR / 2, HOUR)).toBe(0);
    requests.setIfAbsent('early', 'e', 'A'); // recorded at 0.5 h
    expect(requests.rotate(T0 + HOUR, HOUR)).toBe(0); // the first epoch ended: it is the previous one now
    requests.setIfAbsent('late', 'e', 'B'); // recorded at 1 h, in the second epoch
    expect(requests.get('early')).toEqual({ exp: 'e', arm: 'A' });
    expect(requests.size).toBe(2);
    // Still known through the previous epoch: no second record, and set moves it there.
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

  it('keeps its epochs on the grid when batches are sparse: a request goes by the first rotate two horizons after its epoch began', () => {
    const requests = new RequestPlacements(T0);
    requests.rotate(T0, HOUR);
    requests.setIfAbsent('r', 'e', 'A'); // recorded at 0
    // A batch every 0.9 h.
    expect(requests.rotate(T0 + 0.9 * HOUR, HOUR)).toBe(0);
    expect(requests.rotate(T0 + 1.8 * HOUR, HOUR)).toBe(0); // the first epoch ended at 1 h
    expect(requests.has('r')).toBe(true);
    expect(requests.rotate(T0 + 2.7 * HOUR, HOUR)).toBe(1); // the second ended at 2 h
    expect(requests.has('r')).toBe(false);
  });

  it('after two ended epochs forgets both at once', () => {
    const requests = new RequestPlacements(T0);
    requests.setIfAbsent('a', 'e', 'A');
    expect(requests.rotate(T0 + HOUR, HOUR)).toBe(0);
    requests.setIfAbsent('b', 'e', 'A');
    // No batch from 1 h to 3 h: 'b' was recorded before 2 h, more than a horizon ago.
    expect(requests.rotate(T0 + 3 * HOUR, HOUR)).toBe(2);
    expect(requests.size).toBe(0);
    requests.setIfAbsent('c', 'e', 'A'); // recorded at 3 h, in the epoch from 3 h
    expect(requests.rotate(T0 + 3.99 * HOUR, HOUR)).toBe(0);
    expect(requests.rotate(T0 + 5 * HOUR, HOUR)).toBe(1);
  });

  it('a partition loaded at the retention cutoff forgets what it loaded within two horizons', () => {
    const loadedAt = T0 + 10 * HOUR;
    const requests = new RequestPlacements(loadedAt - HOUR);
    requests.set('loaded', 'e', 'A'); // from a link written between the cutoff and the load
    expect(requests.rotate(loadedAt, HOUR)).toBe(0); // the first batch after the load
    expect(requests.rotate(loadedAt + 0.9 * HOUR, HOUR)).toBe(0);
    expect(requests.has('loaded')).toBe(true);
    expect(requests.rotate(loadedAt + HOUR, HOUR)).toBe(1);
    expect(requests.has('loaded')).toBe(false);
  });

  it('memory follows the traffic of the horizon, not all traffic: a steady stream stays within two epochs', () => {
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
