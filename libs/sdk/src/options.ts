/**
 * The client's options, completed from the environment (`LLMOPS_API_KEY`, `LLMOPS_<SERVICE>_URL`)
 * and defaults, and checked once: a bad option is an LlmopsValidationError at construction.
 */
import type { RenderableSpec } from '@llmops/prompts';
import { LlmopsValidationError } from './errors';
import type { BufferOptions } from './ingestion-queue';
import type { RetryOptions } from './retry';

export const SERVICES = ['registry', 'assignment', 'feedback', 'analytics', 'identity', 'datasets'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** Where `npm start` serves each service. */
export const DEFAULT_URLS: Record<ServiceName, string> = {
  registry: 'http://127.0.0.1:3001',
  assignment: 'http://127.0.0.1:3002',
  feedback: 'http://127.0.0.1:3003',
  analytics: 'http://127.0.0.1:3004',
  identity: 'http://127.0.0.1:3005',
  datasets: 'http://127.0.0.1:3006',
};

/** Largest batch the platform's batch routes take. */
export const MAX_BATCH = 1_000;

export interface LlmopsClientOptions {
  /** `llmk_<id>_<secret>`; else `LLMOPS_API_KEY`; none sends no Authorization header. */
  apiKey?: string;
  /** Base URLs; else `LLMOPS_<SERVICE>_URL`; else the local stack's ports. */
  urls?: Partial<Record<ServiceName, string>>;
  prompts?: {
    /** How long a fetched version is served from memory before it is revalidated (default 60 s). */
    ttlMs?: number;
    /** Specs served (`served: 'fallback'`) when the registry is unreachable and nothing is cached. */
    fallbacks?: Record<string, RenderableSpec>;
  };
  buffer?: Partial<BufferOptions>;
  retry?: Partial<RetryOptions>;
  /** Per request attempt (default 10 s). */
  timeoutMs?: number;
  /**
   * A fetch implementation (default: the global fetch). It is called both as `fetch(request)` and
   * as `fetch(url, init)` (exposure batches), and must accept both.
   */
  fetch?: typeof fetch;
  /** The environment to read (default: process.env). */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface ResolvedOptions {
  apiKey?: string;
  urls: Record<ServiceName, string>;
  prompts: { ttlMs: number; fallbacks: Record<string, RenderableSpec> };
  buffer: BufferOptions;
  retry: RetryOptions;
  timeoutMs: number;
  fetch: typeof fetch;
}

function positiveInt(field: string, value: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < 1 || value > max)
    throw new LlmopsValidationError(field, `expected an integer 1..${max}, got ${String(value)}`);
  return value;
}

function baseUrl(service: ServiceName, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new LlmopsValidationError(
      `urls.${service}`,
      `expected an http(s) URL, got ${JSON.stringify(value)}`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new LlmopsValidationError(
      `urls.${service}`,
      `expected an http(s) URL, got ${JSON.stringify(value)}`,
    );
  return value.replace(/\/+$/, '');
}

export function resolveOptions(options: LlmopsClientOptions = {}): ResolvedOptions {
  const env = options.env ?? process.env;
  const urls = {} as Record<ServiceName, string>;
  for (const s of SERVICES) {
    urls[s] = baseUrl(s, options.urls?.[s] ?? env[`LLMOPS_${s.toUpperCase()}_URL`] ?? DEFAULT_URLS[s]);
  }
  const apiKey = options.apiKey ?? env.LLMOPS_API_KEY;
  if (apiKey !== undefined && (apiKey.trim() === '' || /\s/.test(apiKey)))
    throw new LlmopsValidationError('apiKey', 'expected a key without whitespace (llmk_<id>_<secret>)');
  const b = options.buffer ?? {};
  const buffer: BufferOptions = {
    maxBatch: positiveInt('buffer.maxBatch', b.maxBatch ?? 500, MAX_BATCH),
    maxItems: positiveInt('buffer.maxItems', b.maxItems ?? 10_000),
    flushIntervalMs: positiveInt('buffer.flushIntervalMs', b.flushIntervalMs ?? 1_000),
    overflow: b.overflow ?? 'drop-oldest',
  };
  if (buffer.overflow !== 'drop-oldest' && buffer.overflow !== 'block')
    throw new LlmopsValidationError('buffer.overflow', "expected 'drop-oldest' or 'block'");
  if (buffer.maxItems < buffer.maxBatch)
    throw new LlmopsValidationError(
      'buffer.maxItems',
      `expected at least buffer.maxBatch (${buffer.maxBatch})`,
    );
  const r = options.retry ?? {};
  const retry: RetryOptions = {
    maxAttempts: positiveInt('retry.maxAttempts', r.maxAttempts ?? 5, 100),
    baseDelayMs: positiveInt('retry.baseDelayMs', r.baseDelayMs ?? 100),
    maxDelayMs: positiveInt('retry.maxDelayMs', r.maxDelayMs ?? 5_000),
  };
  const fetchImpl = options.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== 'function') throw new LlmopsValidationError('fetch', 'expected a fetch function');
  return {
    ...(apiKey !== undefined ? { apiKey } : {}),
    urls,
    prompts: {
      ttlMs: positiveInt('prompts.ttlMs', options.prompts?.ttlMs ?? 60_000),
      fallbacks: options.prompts?.fallbacks ?? {},
    },
    buffer,
    retry,
    timeoutMs: positiveInt('timeoutMs', options.timeoutMs ?? 10_000),
    fetch: fetchImpl,
  };
}
