import { eventTime } from './event-time';

describe('eventTime', () => {
  it('is toISOString() of the millisecond asked, also when asked again or out of order', () => {
    const times = [0, 1_740_823_200_123, 1_740_823_200_123, 1_740_823_200_124, 1_740_823_200_123, Date.now()];
    for (const ms of times) expect(eventTime(ms)).toBe(new Date(ms).toISOString());
  });

  it('defaults to now', () => {
    const before = Date.now();
    const at = Date.parse(eventTime());
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(Date.now());
  });
});
