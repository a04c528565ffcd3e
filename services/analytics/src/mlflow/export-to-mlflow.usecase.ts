/**
 * Writes one experiment's current phase to MLflow (see mlflow-runs.ts for the shape): finds the
 * MLflow experiment by name, the phase's runs through its record in `mlflow_exports` (created once,
 * by the exporter whose claim of the record wins, across processes), and logs the current results
 * into them, with the arms' prompt settings analytics knows (model, sampling params). Re-exporting
 * updates the same runs. Exports of one experiment run one at a time in this process.
 */
import { setTimeout as sleep } from 'node:timers/promises';
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
import { buildExportPlan, type MlflowExportPlan, type MlflowRunSpec } from './mlflow-runs';
import { type MlflowPhaseRunsDoc, MlflowExportsRepository, phaseRunsId } from './mlflow-exports.repository';

/** A phase's runs claimer that stored no run ids for this long crashed, and is taken over. */
const PHASE_CLAIM_LEASE_MS = 2 * 60_000;
/** How often an export waiting for another exporter's runs looks again. */
const PHASE_POLL_MS = 100;

interface PhaseRuns {
  /** The record's claim time, which identifies this record of the phase. */
  claimedAt: string;
  parentRunId: string;
  /** Run id by arm. */
  arms: Map<string, string>;
  created: number;
}

@Injectable()
export class ExportToMlflowUseCase {
  private readonly client: MlflowClient | null;
  private readonly inFlight = new Map<string, Promise<unknown>>();

  private readonly trackingUri: string;

  constructor(
    private readonly experiments: ExperimentsRepository,
    private readonly results: GetResultsUseCase,
    private readonly promptSettings: PromptSettingsRepository,
    private readonly exports: MlflowExportsRepository,
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
    const id = phaseRunsId(experiment._id, plan.phase);
    let phase = await this.phaseRuns(client, id, plan, experimentId);
    let existing = await client.runsTagged(experimentId, 'llmops.phase', String(plan.phase));
    const active = new Set(existing.map((r) => r.info.run_id));
    if (![phase.parentRunId, ...phase.arms.values()].every((runId) => active.has(runId))) {
      // Stored runs MLflow no longer has (deleted, or a new tracking server): record the phase again.
      await this.exports.dropPhase(id, phase.claimedAt);
      phase = await this.phaseRuns(client, id, plan, experimentId);
      existing = await client.runsTagged(experimentId, 'llmops.phase', String(plan.phase));
    }
    const { parentRunId, arms, created } = phase;
    const now = Date.now();
    const log = async (spec: MlflowRunSpec, runId: string, extraTags: Record<string, string>) => {
      const tags = { ...spec.tags, ...extraTags };
      // Params are immutable in MLflow: only those the run does not hold yet are logged.
      const run = existing.find((r) => r.info.run_id === runId);
      const held = new Set((run?.data.params ?? []).map((p) => p.key));
      await client.logBatchNewParams(runId, { metrics: spec.metrics, params: spec.params, tags }, held, now);
      // A stopped experiment's runs are finished; a running one's stay open for later exports.
      if (experiment.status === 'stopped') await client.finishRun(runId, now);
    };
    await log(plan.parent, parentRunId, {});
    const runs: MlflowExportResult['runs'] = [];
    for (const spec of plan.arms) {
      const runId = arms.get(spec.arm ?? '')!;
      await log(spec, runId, { 'mlflow.parentRunId': parentRunId });
      runs.push({ arm: spec.arm ?? '', runId });
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

  /**
   * The runs of the phase: those stored in its `mlflow_exports` record, else created by the one
   * exporter whose insert of the record wins (adopting runs found by tag, which predate the record)
   * while every other exporter waits for the ids it stores. A claimer that stored nothing within
   * PHASE_CLAIM_LEASE_MS crashed and is taken over.
   */
  private async phaseRuns(
    client: MlflowClient,
    id: string,
    plan: MlflowExportPlan,
    experimentId: string,
  ): Promise<PhaseRuns> {
    for (;;) {
      const held = await this.exports.phaseRuns(id);
      if (held?.parentRunId) return this.addMissingArms(client, held, held.parentRunId, plan, experimentId);
      const now = new Date();
      const claimed = held
        ? now.getTime() - Date.parse(held.claimedAt) > PHASE_CLAIM_LEASE_MS &&
          (await this.exports.takeOverPhase(held, now, PHASE_CLAIM_LEASE_MS))
        : await this.exports.claimPhase(id, experimentId, now);
      if (claimed) {
        try {
          return await this.createRuns(client, id, plan, experimentId, now.toISOString());
        } catch (err) {
          await this.exports.releasePhase(id);
          throw err;
        }
      }
      await sleep(PHASE_POLL_MS);
    }
  }

  private async createRuns(
    client: MlflowClient,
    id: string,
    plan: MlflowExportPlan,
    experimentId: string,
    claimedAt: string,
  ): Promise<PhaseRuns> {
    const existing = await client.runsTagged(experimentId, 'llmops.phase', String(plan.phase));
    const tagOf = (run: MlflowRun, key: string) => run.data.tags?.find((t) => t.key === key)?.value;
    let created = 0;
    const create = async (spec: MlflowRunSpec, extraTags: Record<string, string>): Promise<string> => {
      const found = existing.find(
        (r) =>
          tagOf(r, 'llmops.role') === spec.role &&
          (spec.arm === undefined || tagOf(r, 'llmops.arm') === spec.arm),
      );
      if (found) return found.info.run_id;
      created++;
      return client.createRun(experimentId, spec.runName, { ...spec.tags, ...extraTags });
    };
    const parentRunId = await create(plan.parent, {});
    const arms: MlflowPhaseRunsDoc['arms'] = [];
    for (const spec of plan.arms) {
      arms.push({ arm: spec.arm ?? '', runId: await create(spec, { 'mlflow.parentRunId': parentRunId }) });
    }
    await this.exports.storePhaseRuns(id, parentRunId, arms);
    return { claimedAt, parentRunId, arms: new Map(arms.map((a) => [a.arm, a.runId])), created };
  }

  /**
   * An arm added to a phase after its runs were stored gets a run; when exporters race to add it,
   * the first run stored is kept and the others are deleted.
   */
  private async addMissingArms(
    client: MlflowClient,
    held: MlflowPhaseRunsDoc,
    parentRunId: string,
    plan: MlflowExportPlan,
    experimentId: string,
  ): Promise<PhaseRuns> {
    const first = (doc: MlflowPhaseRunsDoc) => {
      const arms = new Map<string, string>();
      for (const a of doc.arms) if (!arms.has(a.arm)) arms.set(a.arm, a.runId);
      return arms;
    };
    let arms = first(held);
    let created = 0;
    for (const spec of plan.arms.filter((s) => !arms.has(s.arm ?? ''))) {
      const arm = spec.arm ?? '';
      const runId = await client.createRun(experimentId, spec.runName, {
        ...spec.tags,
        'mlflow.parentRunId': parentRunId,
      });
      await this.exports.addPhaseArm(held._id, arm, runId);
      const stored = await this.exports.phaseRuns(held._id);
      arms = stored ? first(stored) : arms.set(arm, runId);
      if (arms.get(arm) === runId) created++;
      else await client.deleteRun(runId);
    }
    return { claimedAt: held.claimedAt, parentRunId, arms, created };
  }
}
