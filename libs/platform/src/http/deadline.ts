/**
 * A deadline for an outgoing HTTP exchange (request and body), made to hold whatever the garbage
 * collector does. `fetch(url, { signal: AbortSignal.timeout(ms) })` can wait forever on a server
 * that never answers: the timer of `AbortSignal.timeout` holds its signal weakly, and the signal of
 * the Request fetch builds follows it through a link the collector can cut (nodejs/node#55428), so
 * after a collection nothing aborts the request.
 */

/** What a deadline rejects with: the `TimeoutError` DOMException `AbortSignal.timeout` would give. */
export function timeoutError(): DOMException {
  return new DOMException('The operation timed out.', 'TimeoutError');
}

/** True for the error {@link withDeadline} rejects with when the time ran out. */
export function isTimeoutError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'TimeoutError';
}

/**
 * Runs `work` with a signal that aborts after `ms`, and settles by then even if the work never sees
 * the abort: a timer this call holds aborts the signal and rejects with {@link timeoutError}. Pass
 * the signal to `fetch` and read the body inside `work`, so that the deadline covers both. Should
 * the abort still not reach the request (the case above), the caller is answered at the deadline
 * all the same, and only the request's socket stays open until undici's own timeouts end it.
 */
export async function withDeadline<T>(ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = timeoutError();
      controller.abort(err);
      reject(err);
    }, ms);
  });
  try {
    return await Promise.race([work(controller.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}
