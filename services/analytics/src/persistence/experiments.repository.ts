/**
 * Experiment snapshots from the compacted experiments topic: the newest revision per key wins
 * (an older or repeated snapshot, e.g. after a replay, changes nothing).
 */
import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { isDuplicateKey } from '@llmops/platform';
import type { Model } from 'mongoose';
import { EXPERIMENT, type ExperimentDoc } from './analytics.schemas';
import { collectionFor, type ReadPath } from './read-path';

export interface ExperimentSnapshotInput {
  key: string;
  revision: number;
  status: ExperimentDoc['status'];
  control: string;
  arms: Array<{ name: string; weight: number }>;
  phase: number;
  changedAt: string;
}

@Injectable()
export class ExperimentsRepository {
  constructor(@InjectModel(EXPERIMENT) private readonly experiments: Model<ExperimentDoc>) {}

  findByKey(key: string, path: ReadPath): Promise<ExperimentDoc | null> {
    return collectionFor(this.experiments, path).findOne({ _id: key });
  }

  findAll(path: ReadPath): Promise<ExperimentDoc[]> {
    return collectionFor(this.experiments, path).find({}).toArray();
  }

  /** Applies the newest snapshot per key of one batch: insert the unknown, compare-and-set the known. */
  async applySnapshots(snapshots: ExperimentSnapshotInput[]): Promise<void> {
    const newest = new Map<string, ExperimentSnapshotInput>();
    for (const s of snapshots) {
      const seen = newest.get(s.key);
      if (!seen || s.revision > seen.revision) newest.set(s.key, s);
    }
    if (newest.size === 0) return;
    // The experiments collection is tiny (one document per experiment), so reading it is cheap.
    const col = collectionFor(this.experiments, 'background');
    const current = new Map(
      (await col.find({ _id: { $in: [...newest.keys()] } }).toArray()).map((d) => [d._id, d]),
    );
    const inserts: ExperimentDoc[] = [];
    const updates: Array<{ doc: ExperimentDoc; previous: number }> = [];
    for (const s of newest.values()) {
      const prev = current.get(s.key);
      if (prev && prev.revision >= s.revision) continue;
      const doc: ExperimentDoc = {
        _id: s.key,
        revision: s.revision,
        status: s.status,
        control: s.control,
        arms: s.arms,
        phase: s.phase,
        phaseStartedAt: prev && prev.phase !== s.phase ? s.changedAt : (prev?.phaseStartedAt ?? null),
        stoppedAt: s.status === 'stopped' ? (prev?.stoppedAt ?? s.changedAt) : null,
        updatedAt: s.changedAt,
      };
      if (prev) updates.push({ doc, previous: prev.revision });
      else inserts.push(doc);
    }
    if (inserts.length > 0) {
      // A concurrent instance may insert the same key; its snapshot is as new or newer, so a
      // duplicate key is simply ignored (FerretDB continues unordered inserts past it).
      await col.insertMany(inserts, { ordered: false }).catch((err: unknown) => {
        if (!isDuplicateKey(err)) throw err;
      });
    }
    if (updates.length > 0) {
      await col.bulkWrite(
        updates.map(({ doc, previous }) => {
          const { _id, ...rest } = doc;
          return { replaceOne: { filter: { _id, revision: previous }, replacement: rest } };
        }),
        { ordered: false },
      );
    }
  }
}
