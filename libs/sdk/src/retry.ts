/** Exponential backoff with full jitter, and the Retry-After a 429 or 503 asks for. */
export interface RetryOptions {
  /** Attempts per request, the first included (1 = no retry). */
  maxAttempts: number;
  /** Ceiling of the first retry's delay; doubles per attempt. */
  baseDelayMs: number;
  /** Largest ceiling of a retry's delay (a server's Retry-After may ask for more). */
  maxDelayMs: number;
}

/**
 * The longest Retry-After honoured: a server asking for more (or a bad date far ahead) gets a retry
 * after 60 s, as in the Python SDK, instead of stalling the client.
 */
export const MAX_RETRY_AFTER_MS = 60_000;

/**
 * Delay before retry number `attempt` (1 = the first retry): uniform in
 * [0, min(maxDelayMs, baseDelayMs * 2^(attempt-1))] ("full jitter": concurrent clients spread
 * out instead of retrying in lockstep), but never sooner than the server's Retry-After, itself
 * capped at {@link MAX_RETRY_AFTER_MS}.
 */
export function backoffDelay(
  attempt: number,
  retry: RetryOptions,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
  const jittered = Math.floor(random() * ceiling);
  return retryAfterMs === undefined
    ? jittered
    : Math.max(Math.min(retryAfterMs, MAX_RETRY_AFTER_MS), jittered);
}

/** Milliseconds a Retry-After header asks for: delta-seconds or an HTTP date; undefined if absent or bad. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  if (!/[a-z]/i.test(value)) return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** HTTP statuses a retry can fix. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 502 || status === 503 || status === 504;
}
