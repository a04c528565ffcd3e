/** The only place this service reads process.env: validated at boot, every bad variable listed. */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { baseServiceConfig, env, type EnvSource, loadConfig } from '@llmops/platform';
import { z } from 'zod';

export const registryConfigSchema = baseServiceConfig(3001, 'registry').extend({
  /** How often the outbox publisher looks for unpublished events (it is also kicked after each write). */
  REGISTRY_OUTBOX_POLL_MS: env.int(200, 10, 60_000),
  /** Most events one publisher round reads from each outbox collection. */
  REGISTRY_OUTBOX_BATCH_SIZE: env.int(200, 1, 10_000),
  /** Longest wait between publisher retries while the broker is unavailable. */
  REGISTRY_OUTBOX_MAX_BACKOFF_MS: env.int(5_000, 10, 600_000),
  /**
   * Failed publish attempts of one outbox record (its event fails its contract, cannot fit, or the
   * broker refuses it) before it is quarantined. Broker outages do not count.
   */
  REGISTRY_OUTBOX_MAX_ATTEMPTS: env.int(5, 1, 1_000),
  /**
   * Largest serialized event (bytes). The broker refuses records over its message.max.bytes (1 MiB
   * by default), so a write whose event could not fit is refused up front (413 event_too_large).
   */
  REGISTRY_MAX_EVENT_BYTES: env.int(900 * 1024, 1024, 100 * 1024 * 1024),
  /** Largest spec accepted (bytes of its canonical JSON); the request body may be 64 KiB larger. */
  REGISTRY_MAX_SPEC_BYTES: env.int(256 * 1024, 1024, 16 * 1024 * 1024),
  /** Largest render result: UTF-8 bytes of all rendered texts together (checked while rendering). */
  REGISTRY_MAX_RENDERED_BYTES: env.int(1024 * 1024, 1024, 256 * 1024 * 1024),
  /** Most lines of one text (template, system prompt, messages) that the diff endpoint compares. */
  REGISTRY_DIFF_MAX_LINES: env.int(5_000, 10, 1_000_000),
  /** A line diff gives up (422 diff_too_different) past this many changed lines... */
  REGISTRY_DIFF_MAX_CHANGED_LINES: env.int(1_000, 10, 1_000_000),
  /** ...or after this long (all texts of one diff request together). */
  REGISTRY_DIFF_TIMEOUT_MS: env.int(5_000, 10, 600_000),
  /** Immutable versions kept in memory (oldest evicted first). */
  REGISTRY_VERSION_CACHE_MAX: env.int(20_000, 0, 10_000_000),
  /**
   * Safety net for alias cache entries: they are invalidated by alias-moved events, and also expire
   * after this long, which bounds staleness while the broker is unreachable.
   */
  REGISTRY_ALIAS_CACHE_TTL_MS: env.int(30_000, 0, 3_600_000),
  /** Consume the registry's own topics to invalidate cached aliases (off only for tests/tools). */
  REGISTRY_CACHE_CONSUMER_ENABLED: env.bool(true),
  /** Consume the experiments and decisions topics to promote winners automatically (autoPromote). */
  REGISTRY_PROMOTION_CONSUMER_ENABLED: env.bool(true),
  /**
   * The promotion consumer's group, shared by the replicas (each decision is applied by one).
   * Unset: `<KAFKA_TOPIC_PREFIX>llmops-registry-promotion`, so deployments that share a broker
   * under different prefixes never share the group.
   */
  REGISTRY_PROMOTION_CONSUMER_GROUP: z.string().min(1, 'must not be empty').optional(),
  /** Identifies this instance: its cache-invalidation consumer group is `<SERVICE_NAME>-cache-<id>`. */
  REGISTRY_INSTANCE_ID: z
    .string()
    .regex(/^[a-zA-Z0-9._-]{1,100}$/, 'expected 1-100 letters, digits, ".", "_" or "-"')
    .default(
      () =>
        `${hostname()
          .replace(/[^a-zA-Z0-9._-]/g, '-')
          .slice(0, 60)}-${process.pid}-${randomBytes(3).toString('hex')}`,
    ),
});

export type RegistryConfig = ReturnType<typeof loadRegistryConfig>;

export function loadRegistryConfig(env: EnvSource = process.env) {
  return loadConfig(registryConfigSchema, env);
}
