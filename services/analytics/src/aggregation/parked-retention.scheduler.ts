/**
 * Retention of parked feedback (feedback naming no arm whose generation has not arrived): every
 * ANALYTICS_PARKED_SWEEP_INTERVAL_MS, each consuming replica forgets, in the partitions it holds,
 * the parked feedback received more than ANALYTICS_PARKED_RETENTION_HOURS ago, then deletes those
 * documents of every partition with one deleteMany. From then on a generation for that request no
 * longer applies them. The horizon is wall-clock time against the feedback's `receivedAt`.
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

  /** One sweep: this replica's partitions forget first, so its generations stop applying what is deleted next. */
  async sweep(): Promise<void> {
    const cutoff = parkedCutoff(Date.now(), this.config.ANALYTICS_PARKED_RETENTION_HOURS);
    const { forgotten, held } = this.applyBatch.forgetParkedBefore(cutoff);
    const purged = await this.parked.deleteReceivedBefore(cutoff);
    this.metrics.commands(1);
    this.metrics.parkedPurged.inc(purged);
    this.metrics.parkedHeld.set(held);
    if (purged > 0 || forgotten > 0)
      this.logger.info({ cutoff, purged, forgotten }, 'parked feedback past the retention purged');
  }
}
