/**
 * Request/event context: the correlation id and the W3C traceparent. Every HTTP request gets one
 * (see `contextOf` in http/request-context.ts); use cases receive it as an argument and put it on
 * the events they produce (`contextHeaders`) and on their request-scoped log lines (`contextFields`).
 *
 * It is passed explicitly, not through AsyncLocalStorage: on Node 20 an AsyncLocalStorage in use
 * installs promise hooks that run for every promise of the process, and removing it served
 * more requests in a same-run benchmark of POST /v1/feedback (docs/perf/HISTORY.md).
 */
import { randomUUID } from 'node:crypto';
import { pooledRandomHex } from '../random/random-pool';

export interface RequestContext {
  correlationId: string;
  traceparent: string;
}

export const CORRELATION_HEADER = 'x-correlation-id';
export const TRACEPARENT_HEADER = 'traceparent';

const TRACEPARENT_RE = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** A child span of `parent` (same trace id, new span id), or a new trace. */
export function childTraceparent(parent?: string): string {
  const m = parent ? TRACEPARENT_RE.exec(parent) : null;
  // Trace and span ids from the pool: a randomBytes() call per request costs more than the rest.
  const random = pooledRandomHex(24);
  const traceId = m && m[1] !== '0'.repeat(32) ? m[1] : random.slice(0, 32);
  const flags = m ? m[3] : '01';
  return `00-${traceId}-${random.slice(32)}-${flags}`;
}

export function newContext(correlationId?: string, parentTraceparent?: string): RequestContext {
  const cleanId = correlationId && /^[\w.:-]{1,128}$/.test(correlationId) ? correlationId : randomUUID();
  return { correlationId: cleanId, traceparent: childTraceparent(parentTraceparent) };
}

/** The context's fields for a log line (`logger.warn({ ...contextFields(ctx), ... }, msg)`). */
export function contextFields(ctx: RequestContext): { correlationId: string; traceparent: string } {
  return { correlationId: ctx.correlationId, traceparent: ctx.traceparent };
}

type HeaderValue = Buffer | string | (Buffer | string)[] | undefined;

function headerString(v: HeaderValue): string | undefined {
  if (v === undefined) return undefined;
  const first = Array.isArray(v) ? v[0] : v;
  return first === undefined ? undefined : first.toString();
}

/** Kafka headers that carry a context to consumers. */
export function contextHeaders(ctx: RequestContext): Record<string, string> {
  return { [CORRELATION_HEADER]: ctx.correlationId, [TRACEPARENT_HEADER]: ctx.traceparent };
}

/** The context a consumer continues from a message's headers. */
export function contextFromHeaders(headers: Record<string, HeaderValue> | undefined): RequestContext {
  return newContext(headerString(headers?.[CORRELATION_HEADER]), headerString(headers?.[TRACEPARENT_HEADER]));
}
