/** The only place this service reads process.env: validated at boot, every bad variable listed. */
import { baseServiceConfig, env, type EnvSource, loadConfig } from '@llmops/platform';
import { z } from 'zod';

export const datasetsConfigSchema = baseServiceConfig(3006, 'datasets').extend({
  /** Run the Kafka consumer that materializes examples in this process (false: API-only replica). */
  DATASETS_CONSUMER_ENABLED: env.bool(true),
  /** One consumer group reads generations, feedback and prompt aliases. */
  DATASETS_CONSUMER_GROUP: env.string('llmops-datasets'),
  /** Where a group with no committed offset starts (true: materialize the topics' whole history). */
  DATASETS_FROM_BEGINNING: env.bool(true),
  /** Examples whose first event is older than this many days are purged (and such events skipped). */
  DATASETS_RETENTION_DAYS: env.int(90, 1, 36_500),
  /** How often the retention sweep runs. */
  DATASETS_RETENTION_SWEEP_MS: env.int(3_600_000, 1_000, 86_400_000),
  /**
   * How examples are stored (see persistence/example-writer.ts): `documents` (one document per
   * example, updated in place: MongoDB), `facts` (insert-only facts folded on read: FerretDB, whose
   * updates scan the collection), `auto` asks the server at boot.
   */
  DATASETS_EXAMPLE_LAYOUT: z.enum(['auto', 'documents', 'facts']).default('auto'),
  /** How often the example gauges (materialized, parked) are recounted. */
  DATASETS_METRICS_REFRESH_MS: env.int(30_000, 100, 3_600_000),
});

export type DatasetsConfig = ReturnType<typeof loadDatasetsConfig>;

export function loadDatasetsConfig(source: EnvSource = process.env) {
  return loadConfig(datasetsConfigSchema, source);
}
