/**
 * The automatic MLflow export's bookkeeping on the real MongoDB-wire server: one claim per stopped
 * experiment revision however many replicas race for it, a failed export retried at the next look,
 * a crashed exporter's claim taken over after its lease, and a new revision exported again; and the
 * phase runs record: one creator of a phase's MLflow runs among concurrent exporters, checked
 * against the real MLflow server (MLFLOW_TRACKING_URI, set by the jest global setup when MLflow is
 * installed; skipped without it).
 */
import { testInfra } from '@llmops/testing';
import { createConnection, type Connection } from 'mongoose';
import pino from 'pino';
import type { ExperimentDoc } from '../src/persistence/analytics.schemas';
import { EXPERIMENT, ExperimentSchema } from '../src/persistence/analytics.schemas';
import {
  type ExperimentSnapshotInput,
  ExperimentsRepository,
} from '../src/persistence/experiments.repository';
import { experimentDoc } from './support/planner';
import type { MlflowExportResult } from '../src/mlflow/dto/mlflow-export.response';
import { ExportToMlflowUseCase } from '../src/mlflow/export-to-mlflow.usecase';
import { MlflowClient } from '../src/mlflow/mlflow.client';
import type { PromptSettingsRepository } from '../src/persistence/prompt-settings.repository';
import type { GetResultsUseCase } from '../src/results/get-results.usecase';
import type { ExperimentResults } from '../src/results/dto/results.response';
import { MlflowExportScheduler } from '../src/mlflow/mlflow-export.scheduler';
import {
  exportClaimId,
  MLFLOW_EXPORT,
  type MlflowExportDoc,
  MlflowExportSchema,
  MlflowExportsRepository,
  phaseRunsId,
} from '../src/mlflow/mlflow-exports.repository';

const infra = testInfra();
let connection: Connection;
let exports: MlflowExportsRepository;
let experiments: ExperimentsRepository;

const snapshot = (
  key: string,
  revision: number,
  status: ExperimentDoc['status'],
): ExperimentSnapshotInput => ({
  project: 'default',
  key,
  revision,
  status,
  control: 'A',
  arms: [
    { name: 'A', weight: 0.5 },
    { name: 'B', weight: 0.5 },
  ],
  decision: null,
  phase: 1,
  changedAt: new Date().toISOString(),
});

/** An exporter that records what it was asked to export and fails while `failing` is set. */
class RecordingExporter implements Pick<ExportToMlflowUseCase, 'enabled' | 'export'> {
  readonly enabled = true;
  readonly exported: string[] = [];
  failing = false;

  export(experiment: ExperimentDoc): Promise<MlflowExportResult> {
    if (this.failing) return Promise.reject(new Error('MLflow at http://127.0.0.1:1 is unreachable'));
    this.exported.push(`${experiment.key}@${experiment.revision}`);
    return Promise.resolve({
      experiment: experiment.key,
      phase: experiment.phase,
      trackingUri: 'http://127.0.0.1:1',
      mlflowExperimentId: '1',
      mlflowExperimentName: `default/${experiment.key}`,
      verdict: 'none',
      parentRunId: 'p',
      runs: [],
      created: 0,
    });
  }
}

const scheduler = (exporter: RecordingExporter) =>
  new MlflowExportScheduler(
    { ANALYTICS_MLFLOW_EXPORT_INTERVAL_MS: 60_000, ANALYTICS_CONSUMER_ENABLED: true },
    pino({ level: 'silent' }),
    experiments,
    exports,
    exporter as unknown as ExportToMlflowUseCase,
  );

beforeAll(async () => {
  connection = await createConnection(infra.mongoBaseUri, { dbName: infra.dbName }).asPromise();
  exports = new MlflowExportsRepository(connection.model<MlflowExportDoc>(MLFLOW_EXPORT, MlflowExportSchema));
  experiments = new ExperimentsRepository(connection.model<ExperimentDoc>(EXPERIMENT, ExperimentSchema));
});

afterAll(async () => {
  await connection.dropDatabase();
  await connection.close();
});

it('gives a revision to exactly one of many concurrent claimers', async () => {
  const id = exportClaimId('default/race', 3);
  const won = await Promise.all(Array.from({ length: 10 }, () => exports.claim(id, new Date())));
  expect(won.filter(Boolean)).toHaveLength(1);
  expect(await exports.claimed([id, exportClaimId('default/race', 4)])).toEqual(new Set([id]));
});

it('drops a released claim, keeps a done one, and expires a crashed exporter claim after its lease', async () => {
  const now = new Date();
  const released = exportClaimId('default/released', 1);
  const done = exportClaimId('default/done', 1);
  const crashed = exportClaimId('default/crashed', 1);
  expect(await exports.claim(released, now)).toBe(true);
  await exports.release(released);
  expect(await exports.claim(released, now)).toBe(true);

  expect(await exports.claim(done, new Date(now.getTime() - 3_600_000))).toBe(true);
  await exports.markDone(done, now);
  await exports.release(done);
  expect(await exports.claim(crashed, new Date(now.getTime() - 3_600_000))).toBe(true);

  expect(await exports.expire(now, 60_000)).toBe(1);
  expect(await exports.claimed([released, done, crashed])).toEqual(new Set([released, done]));
});

it('exports each stopped revision once, retries a failed export, and exports a new revision again', async () => {
  await experiments.applySnapshots([
    snapshot('stopped-1', 2, 'stopped'),
    snapshot('running-1', 1, 'running'),
    snapshot('stopped-2', 5, 'stopped'),
  ]);
  const exporter = new RecordingExporter();
  exporter.failing = true;
  const a = scheduler(exporter);
  const b = scheduler(exporter);
  expect(await a.exportStopped()).toBe(0);

  exporter.failing = false;
  // Two replicas look at once: each stopped revision is exported by one of them.
  const counts = await Promise.all([a.exportStopped(), b.exportStopped()]);
  expect(counts[0] + counts[1]).toBe(2);
  expect(exporter.exported.sort()).toEqual(['stopped-1@2', 'stopped-2@5']);
  expect(await a.exportStopped()).toBe(0);

  // A later change of a stopped experiment (a new revision) is exported again.
  await experiments.applySnapshots([snapshot('stopped-1', 3, 'stopped')]);
  expect(await b.exportStopped()).toBe(1);
  expect(exporter.exported).toContain('stopped-1@3');
});

describe('phase runs record', () => {
  it('lets exactly one of many concurrent claimers create the runs, the others read its run ids', async () => {
    const id = phaseRunsId('default/claim-race', 1);
    const won = await Promise.all(Array.from({ length: 10 }, () => exports.claimPhase(id, '7', new Date())));
    expect(won.filter(Boolean)).toHaveLength(1);
    expect(await exports.phaseRuns(id)).toMatchObject({ mlflowExperimentId: '7', parentRunId: null });
    await exports.storePhaseRuns(id, 'parent', [{ arm: 'A', runId: 'run-a' }]);
    expect(await exports.phaseRuns(id)).toMatchObject({
      parentRunId: 'parent',
      arms: [{ arm: 'A', runId: 'run-a' }],
    });
    // Stored runs are never released, taken over or expired as revision claims are.
    await exports.releasePhase(id);
    expect(await exports.takeOverPhase((await exports.phaseRuns(id))!, new Date(), 60_000)).toBe(false);
    await exports.expire(new Date(Date.now() + 3_600_000), 1);
    expect((await exports.phaseRuns(id))?.parentRunId).toBe('parent');
  });

  it('hands a crashed claimer’s phase to exactly one of the exporters taking it over', async () => {
    const id = phaseRunsId('default/claim-crashed', 1);
    expect(await exports.claimPhase(id, '7', new Date(Date.now() - 3_600_000))).toBe(true);
    const held = (await exports.phaseRuns(id))!;
    const took = await Promise.all(
      Array.from({ length: 5 }, () => exports.takeOverPhase(held, new Date(), 60_000)),
    );
    expect(took.filter(Boolean)).toHaveLength(1);
    // A taker that crashed between its mark and its claim: the claim stays, taken over in the next
    // lease period, not before.
    const crashed = phaseRunsId('default/claim-crashed-taker', 1);
    expect(await exports.claimPhase(crashed, '7', new Date(Date.now() - 3_600_000))).toBe(true);
    const stale = (await exports.phaseRuns(crashed))!;
    const at = (periods: number) => new Date(Date.parse(stale.claimedAt) + periods * 60_000 + 1);
    await connection
      .collection('mlflow_exports')
      .insertOne({ _id: `takeover:${crashed}@${stale.claimedAt}#1` as never, done: true });
    expect(await exports.takeOverPhase(stale, at(1), 60_000)).toBe(false);
    expect(await exports.takeOverPhase(stale, at(2), 60_000)).toBe(true);
    expect((await exports.phaseRuns(crashed))?.claimedAt).toBe(at(2).toISOString());
  });
});

const trackingUri = process.env.MLFLOW_TRACKING_URI;
const withMlflow = trackingUri ? describe : describe.skip;

withMlflow('export to a real MLflow server', () => {
  const key = `race-${Date.now()}`;
  const experiment = experimentDoc({
    _id: `default/${key}`,
    key,
    arms: [
      { name: 'A', weight: 0.5 },
      { name: 'B', weight: 0.5 },
    ],
    updatedAt: new Date().toISOString(),
  });
  const arm = (name: string) => ({
    arm: name,
    exposures: 10,
    generations: 10,
    latencyMs: { p50: 100, p95: 150, p99: null },
    costPerRequestUsd: null,
    costUsd: null,
    tokens: { total: 0 },
    rating: { n: 10, mean: 4, sd: 1, ci95: [3.5, 4.5] },
    thumbs: { n: 0, rate: null, ci95: null },
    scores: {},
    corrections: 0,
    comments: 0,
  });
  const results = {
    window: { from: '2026-12-01T00:00:00.000Z', to: '2026-12-02T00:00:00.000Z' },
    control: 'A',
    arms: [arm('A'), arm('B')],
    comparisons: [],
    srm: { pValue: 0.5, mismatch: false },
    sampleSize: { metric: 'rating', neededPerArm: 100, reached: false },
    decision: null,
  } as unknown as ExperimentResults;

  /** One analytics process's exporter (its own in-process queue), sharing the database and MLflow. */
  const exporter = () =>
    new ExportToMlflowUseCase(
      {} as ExperimentsRepository,
      { forExperiment: () => Promise.resolve(results) } as unknown as GetResultsUseCase,
      { find: () => Promise.resolve(new Map()) } as unknown as PromptSettingsRepository,
      exports,
      { MLFLOW_TRACKING_URI: trackingUri },
    );

  const activeRuns = async (experimentId: string) =>
    new MlflowClient(trackingUri!).runsTagged(experimentId, 'llmops.phase', '1');

  it('creates one parent run and one run per arm when two processes export a new experiment at once', async () => {
    const [a, b] = await Promise.all([
      exporter().export(experiment, 'request'),
      exporter().export(experiment, 'background'),
    ]);
    expect(a.created + b.created).toBe(3);
    expect(b.parentRunId).toBe(a.parentRunId);
    expect(b.runs).toEqual(a.runs);
    const runs = await activeRuns(a.mlflowExperimentId);
    expect(runs).toHaveLength(3);
    const record = await exports.phaseRuns(phaseRunsId(experiment._id, 1));
    expect(record).toMatchObject({ mlflowExperimentId: a.mlflowExperimentId, parentRunId: a.parentRunId });

    // Runs created before the record existed are found by tag and adopted, not duplicated.
    await connection.collection('mlflow_exports').deleteOne({ _id: phaseRunsId(experiment._id, 1) } as never);
    const again = await exporter().export(experiment, 'request');
    expect(again.created).toBe(0);
    expect(again.parentRunId).toBe(a.parentRunId);
    expect(await activeRuns(a.mlflowExperimentId)).toHaveLength(3);
  }, 60_000);

  it('records the phase again when MLflow no longer has its stored runs', async () => {
    const id = phaseRunsId(experiment._id, 1);
    const before = await exporter().export(experiment, 'request');
    await exports.dropPhase(id, (await exports.phaseRuns(id))!.claimedAt);
    expect(await exports.claimPhase(id, before.mlflowExperimentId, new Date())).toBe(true);
    await exports.storePhaseRuns(id, 'gone-parent', [
      { arm: 'A', runId: 'gone-a' },
      { arm: 'B', runId: 'gone-b' },
    ]);
    const after = await exporter().export(experiment, 'request');
    expect(after.parentRunId).toBe(before.parentRunId);
    expect(after.runs).toEqual(before.runs);
    expect(await exports.phaseRuns(id)).toMatchObject({ parentRunId: before.parentRunId });
    expect(await activeRuns(before.mlflowExperimentId)).toHaveLength(3);
  }, 60_000);
});
