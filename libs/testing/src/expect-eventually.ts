export interface EventuallyOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

/**
 * Polls `assertion` until it stops throwing or the deadline passes, then rethrows the last
 * failure. Use instead of fixed sleeps for anything asynchronous.
 */
export async function expectEventually<T>(
  assertion: () => T | Promise<T>,
  { timeoutMs = 30_000, intervalMs = 100 }: EventuallyOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      return await assertion();
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  if (lastError instanceof Error) {
    lastError.message = `not satisfied within ${timeoutMs} ms: ${lastError.message}`;
  }
  throw lastError;
}
