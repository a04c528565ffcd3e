/**
 * The automatic export: every ANALYTICS_MLFLOW_EXPORT_INTERVAL_MS, each stopped experiment whose
 * current revision has not been exported yet is exported once (claimed in `mlflow_exports`, so one
 * replica does it). A failure is logged and retried at the next look; MLflow being down never holds
 * the consumer. Only processes that consume (ANALYTICS_CONSUMER_ENABLED) export automatically.
 */
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { LOGGER, SERVICE_CONFIG } from '@llmops/platform';
import type { Logger } from 'pino';
import type { AnalyticsConfig } from '../config/analytics.config';
import { ExperimentsRepository } from '../persistence/experiments.repository';
import { ExportToMlflowUseCase } from './export-to-mlflow.usecase';
import { exportClaimId, MlflowExportsRepository } from './mlflow-exports.repository';

/** An unfinished claim older than this belongs to a crashed exporter and is taken over. */
const CLAIM_LEASE_MS = 5 * 60_000;

@Injectable()
export class MlflowExportScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(
    @Inject(SERVICE_CONFIG)
    private readonly config: Pick<
      AnalyticsConfig,
      'ANALYTICS_MLFLOW_EXPORT_INTERVAL_MS' | 'ANALYTICS_CONSUMER_ENABLED'
    >,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly experiments: ExperimentsRepository,
    private readonly exports: MlflowExportsRepository,
    private readonly exporter: ExportToMlflowUseCase,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.exporter.enabled || !this.config.ANALYTICS_CONSUMER_ENABLED) return;
    this.timer = setInterval(() => {
      this.running ??= this.exportStopped()
        .then(() => undefined)
        .catch((err: unknown) =>
          this.logger.warn({ err }, 'MLflow export: looking for stopped experiments failed'),
        )
        .finally(() => (this.running = undefined));
    }, this.config.ANALYTICS_MLFLOW_EXPORT_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** One look: export every stopped experiment whose current revision nobody claimed. */
  async exportStopped(now = new Date()): Promise<number> {
    await this.exports.expire(now, CLAIM_LEASE_MS);
    const stopped = (await this.experiments.findAll('background')).filter((e) => e.status === 'stopped');
    if (stopped.length === 0) return 0;
    const claimed = await this.exports.claimed(stopped.map((e) => exportClaimId(e._id, e.revision)));
    let exported = 0;
    for (const experiment of stopped) {
      const id = exportClaimId(experiment._id, experiment.revision);
      if (this.closed || claimed.has(id) || !(await this.exports.claim(id, now))) continue;
      try {
        const r = await this.exporter.export(experiment, 'background');
        await this.exports.markDone(id, new Date());
        exported++;
        this.logger.info(
          {
            experiment: experiment._id,
            phase: r.phase,
            mlflowExperimentId: r.mlflowExperimentId,
            created: r.created,
          },
          'exported a stopped experiment to MLflow',
        );
      } catch (err) {
        await this.exports.release(id);
        this.logger.warn(
          { err, experiment: experiment._id },
          'MLflow export failed; retried at the next look',
        );
      }
    }
    return exported;
  }
}
