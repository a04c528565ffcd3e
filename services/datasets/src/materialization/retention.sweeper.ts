/**
 * Deletes the examples first seen more than DATASETS_RETENTION_DAYS ago: at boot and every
 * DATASETS_RETENTION_SWEEP_MS, on the replicas that run the consumer. Events that old are skipped by
 * the consumer, so a replay never brings back a purged generation. Feedback received within the
 * horizon about a purged example is applied, though (when it arrives, or when a replay re-reads
 * it): it re-creates the example as parked (that feedback only, no generation, `firstSeenAt` = its
 * `receivedAt`), which never matches a dataset and is purged again once that feedback ages out.
 */
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { LOGGER, PeriodicTask, SERVICE_CONFIG } from '@llmops/platform';
import type { Logger } from 'pino';
import type { DatasetsConfig } from '../config/datasets.config';
import { DAY_MS } from '../domain/util';
import { DatasetsMetrics } from '../metrics/datasets-metrics';
import { ExampleWriter } from '../persistence/example-writer';

@Injectable()
export class RetentionSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly task: PeriodicTask;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: DatasetsConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly examples: ExampleWriter,
    private readonly metrics: DatasetsMetrics,
  ) {
    this.task = new PeriodicTask(
      async () => {
        await this.sweep();
      },
      {
        everyMs: config.DATASETS_RETENTION_SWEEP_MS,
        onError: (err: unknown) => logger.warn({ err }, 'retention sweep failed'),
      },
    );
  }

  onApplicationBootstrap(): void {
    if (!this.config.DATASETS_CONSUMER_ENABLED) return;
    this.task.start();
    void this.task.run();
  }

  onApplicationShutdown(): Promise<void> {
    return this.task.stop();
  }

  /** One sweep; returns how many examples it deleted. */
  async sweep(): Promise<number> {
    const horizon = new Date(Date.now() - this.config.DATASETS_RETENTION_DAYS * DAY_MS);
    const purged = await this.examples.purgeFirstSeenBefore(horizon);
    if (purged > 0) {
      this.metrics.purged.inc(purged);
      this.logger.info({ purged, horizon: horizon.toISOString() }, 'retention sweep purged examples');
    }
    return purged;
  }
}
