/** Recounts `llmops_datasets_examples{state}` at boot and every DATASETS_METRICS_REFRESH_MS. */
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { LOGGER, PeriodicTask, SERVICE_CONFIG } from '@llmops/platform';
import type { Logger } from 'pino';
import type { DatasetsConfig } from '../config/datasets.config';
import { DatasetsMetrics } from '../metrics/datasets-metrics';
import { ExampleWriter } from '../persistence/example-writer';

@Injectable()
export class ExampleGaugesRefresher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly task: PeriodicTask;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: DatasetsConfig,
    @Inject(LOGGER) logger: Logger,
    private readonly examples: ExampleWriter,
    private readonly metrics: DatasetsMetrics,
  ) {
    this.task = new PeriodicTask(() => this.refresh(), {
      everyMs: config.DATASETS_METRICS_REFRESH_MS,
      onError: (err: unknown) => logger.warn({ err }, 'example gauges refresh failed'),
    });
  }

  onApplicationBootstrap(): void {
    if (!this.config.DATASETS_CONSUMER_ENABLED) return;
    this.task.start();
    void this.task.run();
  }

  onApplicationShutdown(): Promise<void> {
    return this.task.stop();
  }

  private async refresh(): Promise<void> {
    const { materialized, parked } = await this.examples.countByState();
    this.metrics.examples.set({ state: 'materialized' }, materialized);
    this.metrics.examples.set({ state: 'parked' }, parked);
  }
}
