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
