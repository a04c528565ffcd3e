/**
 * When decisions are evaluated: every ANALYTICS_DECISION_INTERVAL_MS, and after batches that
 * changed aggregates (at most once per second), one round at a time. Only instances that consume
 * evaluate (a results-only replica has nothing new to decide on).
 */
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { LOGGER, PeriodicTask, SERVICE_CONFIG } from '@llmops/platform';
import type { Logger } from 'pino';
import type { AnalyticsConfig } from '../config/analytics.config';
import { AnalyticsMetrics } from '../metrics/analytics-metrics';
import { EvaluateDecisionsUseCase } from './evaluate-decisions.usecase';

/** Post-batch evaluations wait at least this long after the previous round. */
const MIN_GAP_MS = 1_000;

@Injectable()
export class DecisionScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly task: PeriodicTask;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: AnalyticsConfig,
    @Inject(LOGGER) logger: Logger,
    private readonly metrics: AnalyticsMetrics,
    evaluate: EvaluateDecisionsUseCase,
  ) {
    this.task = new PeriodicTask(() => evaluate.evaluateAll(), {
      everyMs: config.ANALYTICS_DECISION_INTERVAL_MS,
      minGapMs: MIN_GAP_MS,
      onError: (err: unknown) => logger.warn({ err }, 'decision round failed'),
    });
  }

  onApplicationBootstrap(): void {
    if (!this.config.ANALYTICS_CONSUMER_ENABLED) return;
    this.task.start();
    this.metrics.addChangeListener(() => this.task.request());
    this.task.request();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.task.stop();
  }
}
