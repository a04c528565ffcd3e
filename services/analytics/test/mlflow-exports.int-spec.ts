/**
 * The automatic MLflow export's bookkeeping on the real MongoDB-wire server: one claim per stopped
 * experiment revision however many replicas race for it, a failed export retried at the next look,
 * a crashed exporter's claim taken over after its lease, and a new revision exported again.
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
import type { MlflowExportResult } from '../src/mlflow/dto/mlflow-export.response';
import type { ExportToMlflowUseCase } from '../src/mlflow/export-to-mlflow.usecase';
import { MlflowExportScheduler } from '../src/mlflow/mlflow-export.scheduler';
import {
  exportClaimId,
  MLFLOW_EXPORT,
  type MlflowExportDoc,
  MlflowExportSchema,
  MlflowExportsRepository,
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
