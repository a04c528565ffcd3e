/**
 * Recomputes the per-arm gauges from MongoDB: at start (so a restart never shows zeros),
 * every ANALYTICS_METRICS_REFRESH_MS, and shortly after batches that changed aggregates.
 */
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { LOGGER, PeriodicTask, SERVICE_CONFIG } from '@llmops/platform';
import type { Logger } from 'pino';
import type { AnalyticsConfig } from '../config/analytics.config';
import { ExperimentsRepository } from '../persistence/experiments.repository';
import { GetResultsUseCase } from '../results/get-results.usecase';
import type { ExperimentResults } from '../results/dto/results.response';
import { ListUnattributedUseCase } from '../results/list-unattributed.usecase';
import { AnalyticsMetrics } from './analytics-metrics';

/** Post-batch refreshes wait at least this long after the previous one (FerretDB scans are not free). */
const MIN_GAP_MS = 1_000;
/** The unattributed count scans pending feedback and requests: recomputed less often. */
const UNATTRIBUTED_EVERY_MS = 15_000;

@Injectable()
export class MetricsRefresher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly task: PeriodicTask;
  private lastUnattributed = 0;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: AnalyticsConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly metrics: AnalyticsMetrics,
    private readonly experiments: ExperimentsRepository,
    private readonly results: GetResultsUseCase,
    private readonly unattributed: ListUnattributedUseCase,
  ) {
    this.task = new PeriodicTask(() => this.doRefresh(), {
      everyMs: config.ANALYTICS_METRICS_REFRESH_MS,
      minGapMs: MIN_GAP_MS,
      onError: (err: unknown) => this.logger.warn({ err }, 'metrics refresh failed'),
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.refresh();
    this.task.start();
    this.metrics.addChangeListener(() => this.task.request());
  }

  async onApplicationShutdown(): Promise<void> {
    await this.task.stop();
  }

  /** One refresh at a time; a request during a refresh schedules exactly one more. */
  refresh(): Promise<void> {
    return this.task.run();
  }

  private async doRefresh(): Promise<void> {
    const started = process.hrtime.bigint();
    const now = Date.now();
    const all = await this.experiments.findAll('background');
    const retained = all
      .filter(
        (e) =>
          e.status !== 'stopped' ||
          (e.stoppedAt !== null &&
            now - Date.parse(e.stoppedAt) < this.config.ANALYTICS_STOPPED_METRICS_RETENTION_MS),
      )
      // Most recently changed first: they get the series budget first (ties: by key, deterministic).
      .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt) || a._id.localeCompare(b._id));
    const keep = retained.slice(0, this.config.ANALYTICS_METRICS_MAX_EXPERIMENTS);
    const results: ExperimentResults[] = [];
    for (const e of keep) {
      if (this.task.isStopped) return;
      const r = await this.results.forExperiment(e, { window: 'all' }, 'background');
      // The `experiment` label is the scoped key (`<project>/<key>`, the bare key in `default`), so
      // two projects' experiments of one key never share a series.
      results.push({ ...r, experiment: e._id });
    }
    this.metrics.publishAll(results, this.config.ANALYTICS_METRICS_MAX_SERIES);
    this.metrics.experimentsOmitted.set(retained.length - keep.length);
    if (now - this.lastUnattributed >= UNATTRIBUTED_EVERY_MS) {
      this.lastUnattributed = now;
      this.metrics.unattributed.set(await this.unattributed.count());
    }
    this.metrics.refreshSeconds.set(Number(process.hrtime.bigint() - started) / 1e9);
  }
}
