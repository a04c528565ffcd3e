import { backoffDelay, isRetryableStatus, MAX_RETRY_AFTER_MS, retryAfterMs } from './retry';

describe('backoffDelay', () => {
  const retry = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1_000 };

  it('draws uniformly below a ceiling that doubles per attempt up to maxDelayMs (full jitter)', () => {
    expect([1, 2, 3, 4, 5, 10].map((n) => backoffDelay(n, retry, undefined, () => 0.999999))).toEqual([
      99, 199, 399, 799, 999, 999,
    ]);
    expect(backoffDelay(3, retry, undefined, () => 0)).toBe(0);
    expect(backoffDelay(3, retry, undefined, () => 0.5)).toBe(200);
  });

  it('never retries sooner than Retry-After, even past maxDelayMs', () => {
    expect(backoffDelay(1, retry, 3_000, () => 0.5)).toBe(3_000);
    expect(backoffDelay(4, retry, 10, () => 0.5)).toBe(400);
  });

  it('honours a Retry-After of at most 60 s: a longer one is cut to MAX_RETRY_AFTER_MS', () => {
    expect(backoffDelay(1, retry, 60_000, () => 0.5)).toBe(60_000);
    expect(backoffDelay(1, retry, 3_600_000, () => 0.5)).toBe(MAX_RETRY_AFTER_MS);
    expect(MAX_RETRY_AFTER_MS).toBe(60_000);
  });
});

describe('retryAfterMs', () => {
  it('reads delta-seconds and HTTP dates', () => {
    expect(retryAfterMs('2')).toBe(2_000);
    expect(retryAfterMs(' 0 ')).toBe(0);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5_000);
    expect(retryAfterMs('Wed, 31 Dec 2025 23:59:00 GMT', now)).toBe(0);
  });

  it('ignores a missing or malformed header', () => {
    expect(retryAfterMs(null)).toBeUndefined();
    expect(retryAfterMs('')).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs('-1')).toBeUndefined();
  });
});

it('retries 429, 502, 503 and 504 only', () => {
  expect([400, 401, 404, 409, 413, 429, 500, 502, 503, 504].filter(isRetryableStatus)).toEqual([
    429, 502, 503, 504,
  ]);
});
