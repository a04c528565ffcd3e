/**
 * Analytics' MLflow export bookkeeping, two kinds of record in `mlflow_exports`, both claimed by
 * inserting a unique `_id` (atomic on MongoDB and FerretDB alike):
 * - which stopped experiments were exported automatically: one claim per experiment revision, so
 *   among replicas exactly one exports it. A claim is `done` once its export succeeded; a failed
 *   export drops its claim (retried at the next look), and a claim left by a crash expires after
 *   `leaseMs`.
 * - which MLflow runs hold an experiment phase (`MlflowPhaseRunsDoc`): the exporter that inserts it
 *   creates the runs and stores their ids; every other export waits for those ids and logs into
 *   the same runs.
 */
import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { isDuplicateKey } from '@llmops/platform';
import { type Model, type mongo, Schema } from 'mongoose';
import { collectionFor } from '../persistence/read-path';

export interface MlflowExportDoc {
  /** `<experimentScope(project, key)>@<revision>` */
  _id: string;
  done: boolean;
  claimedAt: string;
  exportedAt: string | null;
}

export const MLFLOW_EXPORT = 'MlflowExport';
// Read by _id only: the claims of the stopped experiments' current revisions.
export const MlflowExportSchema = new Schema<MlflowExportDoc>(
  { _id: String, done: Boolean, claimedAt: String, exportedAt: String },
  { versionKey: false, collection: 'mlflow_exports' },
);

export const exportClaimId = (experimentId: string, revision: number): string =>
  `${experimentId}@${revision}`;

/** The MLflow runs of one experiment phase; `parentRunId` is null while its creator makes them. */
export interface MlflowPhaseRunsDoc {
  /** `runs:<experimentScope(project, key)>#<phase>` */
  _id: string;
  claimedAt: string;
  mlflowExperimentId: string;
  parentRunId: string | null;
  /** In the order stored: the first entry of an arm is its run. */
  arms: Array<{ arm: string; runId: string }>;
}

export const phaseRunsId = (experimentId: string, phase: number): string => `runs:${experimentId}#${phase}`;

@Injectable()
export class MlflowExportsRepository {
  constructor(@InjectModel(MLFLOW_EXPORT) private readonly exports: Model<MlflowExportDoc>) {}

  private get col() {
    return collectionFor(this.exports, 'background');
  }

  private get phases(): mongo.Collection<MlflowPhaseRunsDoc> {
    return this.col as unknown as mongo.Collection<MlflowPhaseRunsDoc>;
  }

  async phaseRuns(id: string): Promise<MlflowPhaseRunsDoc | null> {
    return this.phases.findOne({ _id: id });
  }

  /** Claims creating the runs of phase `id`; false when another exporter claimed it first. */
  async claimPhase(id: string, mlflowExperimentId: string, now: Date): Promise<boolean> {
    try {
      await this.phases.insertOne({
        _id: id,
        claimedAt: now.toISOString(),
        mlflowExperimentId,
        parentRunId: null,
        arms: [],
      });
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  /**
   * Takes over the claim `held` whose creator stored no runs within `leaseMs` (it crashed); false
   * when another exporter took it over or the runs were stored meanwhile.
   *
   * Of the exporters taking it over, only the one whose insert of a takeover mark wins goes on (a
   * unique `_id`, atomic on MongoDB and FerretDB alike): a conditional delete alone does not decide
   * on FerretDB, whose delete selects, then deletes by `_id`, so two racers can both count a
   * deletion, the later one of the claim the first one just made. The mark names the lease period
   * since the claim, so a taker that crashed in turn is taken over in the next period. The winner
   * deletes the claim, then claims again; a crash between the two leaves no record, and the next
   * export claims the phase afresh. Marks are kept (one per takeover).
   */
  async takeOverPhase(held: MlflowPhaseRunsDoc, now: Date, leaseMs: number): Promise<boolean> {
    const period = Math.floor((now.getTime() - Date.parse(held.claimedAt)) / leaseMs);
    try {
      await this.col.insertOne({
        _id: `takeover:${held._id}@${held.claimedAt}#${period}`,
        done: true,
        claimedAt: now.toISOString(),
        exportedAt: null,
      });
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
    const r = await this.phases.deleteOne({ _id: held._id, claimedAt: held.claimedAt, parentRunId: null });
    if (r.deletedCount !== 1) return false;
    return this.claimPhase(held._id, held.mlflowExperimentId, now);
  }

  /** Stores the runs the claimer created; other exporters use them from then on. */
  async storePhaseRuns(id: string, parentRunId: string, arms: MlflowPhaseRunsDoc['arms']): Promise<void> {
    await this.phases.updateOne({ _id: id }, { $set: { parentRunId, arms } });
  }

  /** Adds an arm's run to a stored phase; the arm's first stored run wins, returned by the caller's re-read. */
  async addPhaseArm(id: string, arm: string, runId: string): Promise<void> {
    await this.phases.updateOne({ _id: id }, { $push: { arms: { arm, runId } } });
  }

  /** Drops the phase's record claimed at `claimedAt` (its runs are gone from MLflow), not a newer one. */
  async dropPhase(id: string, claimedAt: string): Promise<void> {
    await this.phases.deleteOne({ _id: id, claimedAt });
  }

  /** Drops a claim whose creator failed before storing runs, so the next export claims it at once. */
  async releasePhase(id: string): Promise<void> {
    await this.phases.deleteOne({ _id: id, parentRunId: null });
  }

  /** The claims among `ids` (done or held). */
  async claimed(ids: string[]): Promise<Set<string>> {
    const docs = await this.col.find({ _id: { $in: ids } }).toArray();
    return new Set(docs.map((d) => String(d._id)));
  }

  /** Takes the claim `id`; false when another export holds or finished it. */
  async claim(id: string, now: Date): Promise<boolean> {
    try {
      await this.col.insertOne({
        _id: id,
        done: false,
        claimedAt: now.toISOString(),
        exportedAt: null,
      });
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  async markDone(id: string, now: Date): Promise<void> {
    await this.col.updateOne(
      { _id: id },
      {
        $set: { done: true, exportedAt: now.toISOString() },
      },
    );
  }

  async release(id: string): Promise<void> {
    await this.col.deleteOne({ _id: id, done: false });
  }

  /** Drops unfinished revision claims older than `leaseMs` (their exporter crashed); returns how many. */
  async expire(now: Date, leaseMs: number): Promise<number> {
    const r = await this.col.deleteMany({
      done: false,
      claimedAt: { $lt: new Date(now.getTime() - leaseMs).toISOString() },
    });
    return r.deletedCount;
  }
}
