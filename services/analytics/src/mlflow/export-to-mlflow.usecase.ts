/**
 * Writes one experiment's current phase to MLflow (see mlflow-runs.ts for the shape): finds the
 * MLflow experiment by name and the phase's runs by tag, creates only what is missing, and logs the
 * current results into them, with the arms' prompt settings analytics knows (model, sampling params).
 * Re-exporting updates the same runs and never duplicates them. Exports
 * of one experiment run one at a time in this process.
 */
import { Inject, Injectable } from '@nestjs/common';
import { SERVICE_CONFIG } from '@llmops/platform';
import type { AnalyticsConfig } from '../config/analytics.config';
import type { ExperimentDoc } from '../persistence/analytics.schemas';
import { ExperimentsRepository } from '../persistence/experiments.repository';
import { PromptSettingsRepository } from '../persistence/prompt-settings.repository';
import type { ReadPath } from '../persistence/read-path';
import { GetResultsUseCase } from '../results/get-results.usecase';
import { ExperimentNotFoundError } from '../results/results.errors';
import { type MlflowRun, MlflowClient } from './mlflow.client';
import type { MlflowExportResult } from './dto/mlflow-export.response';
import { MlflowNotConfiguredError } from './mlflow.errors';
import { buildExportPlan, type MlflowRunSpec } from './mlflow-runs';

@Injectable()
export class ExportToMlflowUseCase {
  private readonly client: MlflowClient | null;
  private readonly inFlight = new Map<string, Promise<unknown>>();

  private readonly trackingUri: string;

  constructor(
    private readonly experiments: ExperimentsRepository,
    private readonly results: GetResultsUseCase,
    private readonly promptSettings: PromptSettingsRepository,
    @Inject(SERVICE_CONFIG) config: Pick<AnalyticsConfig, 'MLFLOW_TRACKING_URI'>,
  ) {
    this.trackingUri = config.MLFLOW_TRACKING_URI ?? '';
    this.client = this.trackingUri ? new MlflowClient(this.trackingUri) : null;
  }

  get enabled(): boolean {
    return this.client !== null;
  }

  /** `POST /v1/experiments/{key}/export/mlflow`: another project's experiment is not found. */
  async execute(project: string, key: string): Promise<MlflowExportResult> {
    const experiment = await this.experiments.findByKey(project, key, 'request');
    if (!experiment) throw new ExperimentNotFoundError(key);
    if (!this.client) throw new MlflowNotConfiguredError();
    return this.export(experiment, 'request');
  }

  /** Exports `experiment`, after any export of it still running in this process. */
  export(experiment: ExperimentDoc, path: ReadPath): Promise<MlflowExportResult> {
    const previous = this.inFlight.get(experiment._id) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.write(experiment, path));
    this.inFlight.set(experiment._id, next);
    const forget = () => {
      if (this.inFlight.get(experiment._id) === next) this.inFlight.delete(experiment._id);
    };
    next.then(forget, forget);
    return next;
  }

  private async write(experiment: ExperimentDoc, path: ReadPath): Promise<MlflowExportResult> {
    const client = this.client;
    if (!client) throw new MlflowNotConfiguredError();
    const results = await this.results.forExperiment(experiment, { window: 'all' }, path);
    const hashes = experiment.arms.flatMap((a) => (a.prompt ? [a.prompt.hash] : []));
    const settings = await this.promptSettings.find(experiment.project, hashes, path);
    const plan = buildExportPlan(experiment, results, settings);
    const experimentId = await client.ensureExperiment(plan.experimentName, plan.experimentTags);
    const existing = await client.runsTagged(experimentId, 'llmops.phase', String(plan.phase));
    const tagOf = (run: MlflowRun, key: string) => run.data.tags?.find((t) => t.key === key)?.value;
    const find = (spec: MlflowRunSpec) =>
      existing.find(
        (r) =>
          tagOf(r, 'llmops.role') === spec.role &&
          (spec.arm === undefined || tagOf(r, 'llmops.arm') === spec.arm),
      );
    const now = Date.now();
    let created = 0;
    const upsert = async (spec: MlflowRunSpec, extraTags: Record<string, string>): Promise<string> => {
      const tags = { ...spec.tags, ...extraTags };
      const run = find(spec);
      let runId = run?.info.run_id;
      if (!runId) {
        runId = await client.createRun(experimentId, spec.runName, tags);
        created++;
      }
      // Params are immutable in MLflow: only those the run does not hold yet are logged.
      const held = new Set((run?.data.params ?? []).map((p) => p.key));
      const params = Object.fromEntries(Object.entries(spec.params).filter(([k]) => !held.has(k)));
      await client.logBatch(runId, { metrics: spec.metrics, params, tags }, now);
      // A stopped experiment's runs are finished; a running one's stay open for later exports.
      if (experiment.status === 'stopped') await client.finishRun(runId, now);
      return runId;
    };
    const parentRunId = await upsert(plan.parent, {});
    const runs: MlflowExportResult['runs'] = [];
    for (const spec of plan.arms) {
      runs.push({ arm: spec.arm ?? '', runId: await upsert(spec, { 'mlflow.parentRunId': parentRunId }) });
    }
    return {
      experiment: experiment.key,
      phase: plan.phase,
      trackingUri: this.trackingUri,
      mlflowExperimentId: experimentId,
      mlflowExperimentName: plan.experimentName,
      verdict: plan.parent.tags['llmops.verdict'],
      parentRunId,
      runs,
      created,
    };
  }
}
