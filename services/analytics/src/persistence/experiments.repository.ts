/**
 * Experiment snapshots from the compacted experiments topic: the newest revision per (project, key)
 * wins (an older or repeated snapshot, e.g. after a replay, changes nothing). A document's id is
 * `experimentScope(project, key)`.
 */
import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { isDuplicateKey } from '@llmops/platform';
import type { Model } from 'mongoose';
import { experimentScope } from '../domain/project-scope';
import { EXPERIMENT, type ExperimentDoc } from './analytics.schemas';
import { collectionFor, type ReadPath } from './read-path';

export interface ExperimentSnapshotInput {
  project: string;
  key: string;
  revision: number;
  status: ExperimentDoc['status'];
  control: string;
  arms: ExperimentDoc['arms'];
  decision: ExperimentDoc['decision'];
  phase: number;
  changedAt: string;
}

@Injectable()
export class ExperimentsRepository {
  constructor(@InjectModel(EXPERIMENT) private readonly experiments: Model<ExperimentDoc>) {}

  /** The experiment `key` of `project` (null: none, or only another project has one by that key). */
  findByKey(project: string, key: string, path: ReadPath): Promise<ExperimentDoc | null> {
    return collectionFor(this.experiments, path).findOne({ _id: experimentScope(project, key) });
  }

  findByProject(project: string, path: ReadPath): Promise<ExperimentDoc[]> {
    return collectionFor(this.experiments, path).find({ project }).toArray();
  }

  /** Every experiment's id and phase start (see phase-rollup.ts). */
  phaseStarts(path: ReadPath): Promise<Array<Pick<ExperimentDoc, '_id' | 'phaseStartedAt'>>> {
    return collectionFor(this.experiments, path)
      .find({}, { projection: { _id: 1, phaseStartedAt: 1 } })
      .toArray();
  }

  findAll(path: ReadPath): Promise<ExperimentDoc[]> {
    return collectionFor(this.experiments, path).find({}).toArray();
  }

  /** Applies the newest snapshot per key of one batch: insert the unknown, compare-and-set the known. */
  async applySnapshots(snapshots: ExperimentSnapshotInput[]): Promise<void> {
    const newest = new Map<string, ExperimentSnapshotInput>();
    for (const s of snapshots) {
      const id = experimentScope(s.project, s.key);
      const seen = newest.get(id);
      if (!seen || s.revision > seen.revision) newest.set(id, s);
    }
    if (newest.size === 0) return;
    // The experiments collection is tiny (one document per experiment), so reading it is cheap.
    const col = collectionFor(this.experiments, 'background');
    const current = new Map(
      (await col.find({ _id: { $in: [...newest.keys()] } }).toArray()).map((d) => [d._id, d]),
    );
    const inserts: ExperimentDoc[] = [];
    const updates: Array<{ doc: ExperimentDoc; previous: number }> = [];
    for (const [id, s] of newest) {
      const prev = current.get(id);
      if (prev && prev.revision >= s.revision) continue;
      const doc: ExperimentDoc = {
        _id: id,
        project: s.project,
        key: s.key,
        revision: s.revision,
        status: s.status,
        control: s.control,
        arms: s.arms,
        decision: s.decision ?? null,
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
