/**
 * One HTTP request with the SDK's retry policy: network failures, timeouts and 429/502/503/504 are
 * retried with backoff (honouring Retry-After) up to `retry.maxAttempts`; any other non-2xx answer
 * becomes an LlmopsHttpError at once. Requests go through openapi-fetch clients typed by the
 * generated OpenAPI types; this only decides what an answer means.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { LlmopsError, LlmopsHttpError, LlmopsUnavailableError } from './errors';
import { backoffDelay, isRetryableStatus, type RetryOptions, retryAfterMs } from './retry';

/** What an openapi-fetch call resolves to. */
export interface FetchOutcome<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** Counters shared by every request of one client. */
export interface TransportCounters {
  retried: number;
}

export interface SendOptions {
  /** Aborts the request and any wait between attempts (then rejects with code `aborted`). */
  signal?: AbortSignal;
  /** Statuses that are answers, not errors (e.g. 304, or a batch's 400 with per-item results). */
  accept?: (status: number) => boolean;
  /** Per attempt; defaults to the client's timeoutMs. */
  timeoutMs?: number;
  /** Attempts for this request; defaults to retry.maxAttempts. */
  maxAttempts?: number;
  /**
   * False for a write that must not be applied twice (creating an experiment, changing its state):
   * it is retried only when it certainly was not processed, i.e. the connection was refused or the
   * service answered 429, or 503 with Retry-After. A timeout, a reset connection or a 502/504 may
   * follow a processed request: that failure is thrown at once.
   */
  idempotent?: boolean;
}

/** True when `err` (or an error in its causes) is a refused connection: nothing was sent. */
function connectionRefused(err: unknown): boolean {
  for (let e = err, depth = 0; typeof e === 'object' && e !== null && depth < 5; depth++) {
    const { code, errors, cause } = e as { code?: unknown; errors?: unknown; cause?: unknown };
    if (code === 'ECONNREFUSED') return true;
    if (Array.isArray(errors) && errors.length > 0 && errors.every(connectionRefused)) return true;
    e = cause;
  }
  return false;
}

/** True when `failure` certainly left the request unprocessed. */
function notProcessed(failure: LlmopsUnavailableError): boolean {
  if (failure.status === 429) return true;
  if (failure.status === 503) return failure.retryAfterMs !== undefined;
  return failure.status === undefined && failure.code === 'unreachable' && connectionRefused(failure.cause);
}

interface ErrorBody {
  error?: { code?: unknown; message?: unknown; details?: unknown; correlationId?: unknown };
}

/** The typed error of a non-2xx answer, from the platform's `{ error: { code, message, details } }` body. */
export function errorOf(what: string, response: Response, body: unknown): LlmopsError {
  const e = (typeof body === 'object' && body !== null ? (body as ErrorBody).error : undefined) ?? {};
  const code = typeof e.code === 'string' ? e.code : `http_${response.status}`;
  const message = `${what}: ${typeof e.message === 'string' ? e.message : `HTTP ${response.status}`}`;
  if (isRetryableStatus(response.status)) {
    return new LlmopsUnavailableError(
      message,
      code,
      response.status,
      e.details,
      retryAfterMs(response.headers.get('retry-after')),
    );
  }
  const correlationId =
    typeof e.correlationId === 'string'
      ? e.correlationId
      : (response.headers.get('x-correlation-id') ?? undefined);
  return new LlmopsHttpError(message, code, response.status, e.details, correlationId);
}

/**
 * Runs `attempt` with a signal that aborts after `ms`, or when `outer` aborts, and settles by then
 * even if the request never sees the abort: fetch follows the signal of the Request openapi-fetch
 * builds through a link that Node's garbage collector can cut (nodejs/node#55428), and the timer of
 * `AbortSignal.timeout` holds its signal weakly. Rejects with a `TimeoutError` DOMException after
 * `ms`, or with `outer`'s reason.
 */
async function withDeadline<T>(
  ms: number,
  outer: AbortSignal | undefined,
  attempt: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    const stop = (reason: unknown) => {
      controller.abort(reason);
      reject(reason);
    };
    timer = setTimeout(() => stop(new DOMException('The operation timed out.', 'TimeoutError')), ms);
    if (outer) {
      onAbort = () => stop(outer.reason);
      if (outer.aborted) onAbort();
      else outer.addEventListener('abort', onAbort, { once: true });
    }
  });
  try {
    return await Promise.race([attempt(controller.signal), stopped]);
  } finally {
    clearTimeout(timer);
    if (onAbort) outer?.removeEventListener('abort', onAbort);
  }
}

function abortedError(what: string, cause: unknown): LlmopsError {
  return new LlmopsError(`${what}: aborted`, 'aborted', undefined, undefined, { cause });
}

export class Transport {
  constructor(
    private readonly retry: RetryOptions,
    private readonly timeoutMs: number,
    private readonly counters: TransportCounters,
  ) {}

  /** Runs `attempt` (one request) until it answers, fails for good, or the attempts run out. */
  async send<T>(
    what: string,
    attempt: (signal: AbortSignal) => Promise<FetchOutcome<T>>,
    options: SendOptions = {},
  ): Promise<FetchOutcome<T>> {
    const maxAttempts = options.maxAttempts ?? this.retry.maxAttempts;
    for (let n = 1; ; n++) {
      let failure: LlmopsError;
      try {
        const outcome = await withDeadline(options.timeoutMs ?? this.timeoutMs, options.signal, attempt);
        if (outcome.response.ok || options.accept?.(outcome.response.status)) return outcome;
        failure = errorOf(what, outcome.response, outcome.error);
      } catch (err) {
        if (options.signal?.aborted) throw abortedError(what, err);
        const timedOut = err instanceof DOMException && err.name === 'TimeoutError';
        const reason = timedOut ? 'timed out' : err instanceof Error ? err.message : String(err);
        failure = new LlmopsUnavailableError(
          `${what}: ${reason}`,
          timedOut ? 'timeout' : 'unreachable',
          undefined,
          undefined,
          undefined,
          { cause: err },
        );
      }
      if (
        !(failure instanceof LlmopsUnavailableError) ||
        n >= maxAttempts ||
        (options.idempotent === false && !notProcessed(failure))
      )
        throw failure;
      this.counters.retried++;
      try {
        await sleep(backoffDelay(n, this.retry, failure.retryAfterMs), undefined, { signal: options.signal });
      } catch (err) {
        throw abortedError(what, err);
      }
    }
  }
}
