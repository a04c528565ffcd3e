/**
 * Which stopped experiments were exported to MLflow automatically: one claim per experiment
 * revision, taken by inserting its id (atomic on MongoDB and FerretDB alike), so among replicas
 * exactly one exports it. A claim is `done` once its export succeeded; a failed export drops its
 * claim (retried at the next look), and a claim left by a crash expires after `leaseMs`.
 */
import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { isDuplicateKey } from '@llmops/platform';
import { type Model, Schema } from 'mongoose';
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

@Injectable()
export class MlflowExportsRepository {
  constructor(@InjectModel(MLFLOW_EXPORT) private readonly exports: Model<MlflowExportDoc>) {}

  private get col() {
    return collectionFor(this.exports, 'background');
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

  /** Drops unfinished claims older than `leaseMs` (their exporter crashed); returns how many. */
  async expire(now: Date, leaseMs: number): Promise<number> {
    const r = await this.col.deleteMany({
      done: false,
      claimedAt: { $lt: new Date(now.getTime() - leaseMs).toISOString() },
    });
    return r.deletedCount;
  }
}
