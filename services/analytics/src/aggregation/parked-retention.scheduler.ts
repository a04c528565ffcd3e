/**
 * Retention of parked feedback (feedback naming no arm whose generation has not arrived): every
 * ANALYTICS_PARKED_SWEEP_INTERVAL_MS, each consuming replica deletes the parked feedback received
 * more than ANALYTICS_PARKED_RETENTION_HOURS ago, of every partition, with one deleteMany, then
 * forgets it in the partitions it holds. From then on a generation for that request no longer applies
 * it. The horizon is wall-clock time against the feedback's `receivedAt`.
 *
 * The delete and the forget run while no batch of this replica runs (`whileNoBatchRuns`): the sweep
 * waits for the batches in flight, and the batches that arrive meanwhile wait for it. So no batch
 * parks feedback between the two (stored after the delete, then forgotten while the database keeps
 * it), and none reloads its partition in between. Delete, then forget: a failed delete forgets
 * nothing, so the memory holds what the database holds.
 */
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { LOGGER, PeriodicTask, SERVICE_CONFIG } from '@llmops/platform';
import type { Logger } from 'pino';
import type { AnalyticsConfig } from '../config/analytics.config';
import { AnalyticsMetrics } from '../metrics/analytics-metrics';
import { ParkedFeedbackRepository } from '../persistence/parked-feedback.repository';
import { ApplyBatchUseCase } from './apply-batch.usecase';

/** The oldest `receivedAt` kept at `now` (ISO time, the form the feedback service stamps). */
export function parkedCutoff(now: number, retentionHours: number): string {
  return new Date(now - retentionHours * 3_600_000).toISOString();
}

@Injectable()
export class ParkedRetentionScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly task: PeriodicTask;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: AnalyticsConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly metrics: AnalyticsMetrics,
    private readonly parked: ParkedFeedbackRepository,
    private readonly applyBatch: ApplyBatchUseCase,
  ) {
    this.task = new PeriodicTask(() => this.sweep(), {
      everyMs: config.ANALYTICS_PARKED_SWEEP_INTERVAL_MS,
      onError: (err: unknown) => logger.warn({ err }, 'parked feedback retention sweep failed'),
    });
  }

  onApplicationBootstrap(): void {
    if (!this.config.ANALYTICS_CONSUMER_ENABLED || this.config.ANALYTICS_PARKED_RETENTION_HOURS === 0) return;
    this.task.start();
    this.task.request();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.task.stop();
  }

  /**
   * One sweep, while no batch runs: the delete, then this replica's partitions forget (see the
   * header); a failed delete forgets nothing.
   */
  async sweep(): Promise<void> {
    const { cutoff, purged, forgotten, held } = await this.applyBatch.whileNoBatchRuns(async () => {
      const cutoff = parkedCutoff(Date.now(), this.config.ANALYTICS_PARKED_RETENTION_HOURS);
      const purged = await this.parked.deleteReceivedBefore(cutoff);
      this.metrics.commands(1);
      return { cutoff, purged, ...this.applyBatch.forgetParkedBefore(cutoff) };
    });
    this.metrics.parkedPurged.inc(purged);
    this.metrics.parkedHeld.set(held);
    if (purged > 0 || forgotten > 0)
      this.logger.info({ cutoff, purged, forgotten }, 'parked feedback past the retention purged');
  }
}
