/** The only place this service reads process.env: validated at boot, every bad variable listed. */
import { baseServiceConfig, env, type EnvSource, loadConfig } from '@llmops/platform';
import { z } from 'zod';

export const analyticsConfigSchema = baseServiceConfig(3004, 'analytics').extend({
  /** One consumer group reads exposures, generations, feedback and experiments. */
  ANALYTICS_CONSUMER_GROUP: env.string('llmops-analytics'),
  /**
   * The consumer group of the registry's prompt versions (model and sampling params per version, for
   * the MLflow export), shared by every replica. Empty = `<ANALYTICS_CONSUMER_GROUP>-prompts`.
   */
  ANALYTICS_PROMPTS_CONSUMER_GROUP: z
    .string()
    .regex(/^[a-zA-Z0-9._-]*$/, 'expected letters, digits, ".", "_" or "-"')
    .max(200, 'expected at most 200 characters')
    .default(''),
  /** Where a group with no committed offset starts (true: replay history, never skip data). */
  ANALYTICS_FROM_BEGINNING: env.bool(true),
  /**
   * Superseded bucket versions are deleted in bulk at most this often (buckets are insert-only
   * versions; readers skip superseded ones meanwhile), by `_id` `$in`, 1,000 ids a command.
   */
  ANALYTICS_BUCKET_GC_INTERVAL_MS: env.int(2_000, 0, 3_600_000),
  /**
   * How bucket states are written (see persistence/bucket-store.ts): `plain` needs a server that
   * makes a conditional update atomic (MongoDB), `versioned` works on FerretDB too, `auto` asks the
   * server at boot.
   */
  ANALYTICS_BUCKET_STORE: z.enum(['auto', 'plain', 'versioned']).default('auto'),
  /** Run the Kafka consumer in this process (false: API-only replica). */
  ANALYTICS_CONSUMER_ENABLED: env.bool(true),
  /**
   * Parked (unattributed) feedback received longer ago than this is deleted and forgotten: a
   * generation consumed later no longer applies it. 0 keeps parked feedback forever.
   */
  ANALYTICS_PARKED_RETENTION_HOURS: env.int(168, 0, 87_600),
  /**
   * How long a consumed generation's request stays known for its feedback to join: each partition
   * holds a request for at least this many hours and forgets it by its first batch twice as many
   * hours later (see README "Request retention"). Feedback for a forgotten request parks as
   * unattributed. 0 keeps every request (memory then grows with all traffic ever).
   */
  ANALYTICS_REQUEST_RETENTION_HOURS: env.int(168, 0, 87_600),
  /**
   * How often each consuming replica purges parked feedback past the retention: one delete per
   * sweep, which scans the collection on FerretDB.
   */
  ANALYTICS_PARKED_SWEEP_INTERVAL_MS: env.int(300_000, 1_000, 86_400_000),
  /** Sample-size guidance per arm (reference design: 200 minimum, 500 recommended). */
  ANALYTICS_MIN_PER_ARM: env.int(200, 2),
  ANALYTICS_RECOMMENDED_PER_ARM: env.int(500, 2),
  /** How often per-arm gauges are recomputed from MongoDB (also after batches, debounced). */
  ANALYTICS_METRICS_REFRESH_MS: env.int(5_000, 100, 3_600_000),
  /** A stopped experiment's series leave /metrics this long after it stopped. */
  ANALYTICS_STOPPED_METRICS_RETENTION_MS: env.int(3_600_000, 0),
  /**
   * Every running experiment with a decision policy is evaluated at least this often (and after
   * batches that changed aggregates, at most once per second).
   */
  ANALYTICS_DECISION_INTERVAL_MS: env.int(10_000, 100, 3_600_000),
  /** MLflow tracking server the MLflow export writes to (unset: the export is off, its route answers 503). */
  MLFLOW_TRACKING_URI: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  /** How often stopped experiments not yet exported to MLflow are looked for (and failed exports retried). */
  ANALYTICS_MLFLOW_EXPORT_INTERVAL_MS: env.int(10_000, 100, 3_600_000),
  /** Max experiments exported to Prometheus (bounds cardinality). */
  ANALYTICS_METRICS_MAX_EXPERIMENTS: env.int(200, 1, 10_000),
  /** Max experiment/arm/score series exported in total (see `AnalyticsMetrics.publishAll`). */
  ANALYTICS_METRICS_MAX_SERIES: env.int(1_000, 1, 100_000),
});

export type AnalyticsConfig = ReturnType<typeof loadAnalyticsConfig>;

export function loadAnalyticsConfig(env: EnvSource = process.env) {
  return loadConfig(analyticsConfigSchema, env);
}
