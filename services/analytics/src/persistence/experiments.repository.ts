/**
 * Experiment snapshots from the compacted experiments topic: the newest revision per key wins
 * (an older or repeated snapshot, e.g. after a replay, changes nothing).
 */
import type { Collection, Db } from 'mongodb';
import { COLLECTIONS } from './aggregation.repository';

export interface ExperimentDoc {
  /** experiment key */
  _id: string;
  revision: number;
  status: 'draft' | 'running' | 'paused' | 'stopped';
  control: string;
  arms: Array<{ name: string; weight: number }>;
  phase: number;
  /** When the current phase began (null: phase never changed while we watched; use all data). */
  phaseStartedAt: string | null;
  /** When the experiment was stopped (drives removal of its metrics). */
  stoppedAt: string | null;
  updatedAt: string;
}

export interface ExperimentSnapshotInput {
  key: string;
  revision: number;
  status: ExperimentDoc['status'];
  control: string;
  arms: Array<{ name: string; weight: number }>;
  phase: number;
  changedAt: string;
}

export class ExperimentsRepository {
  private readonly col: Collection<ExperimentDoc>;

  constructor(db: Db) {
    this.col = db.collection<ExperimentDoc>(COLLECTIONS.experiments);
  }

  findByKey(key: string): Promise<ExperimentDoc | null> {
    return this.col.findOne({ _id: key });
  }

  findAll(): Promise<ExperimentDoc[]> {
    return this.col.find({}).toArray();
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
    const current = new Map(
      (await this.col.find({ _id: { $in: [...newest.keys()] } }).toArray()).map((d) => [d._id, d]),
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
      await this.col.insertMany(inserts, { ordered: false }).catch((err: unknown) => {
        if (!(err instanceof Error && /E11000|duplicate key/i.test(err.message))) throw err;
      });
    }
    if (updates.length > 0) {
      await this.col.bulkWrite(
        updates.map(({ doc, previous }) => {
          const { _id, ...rest } = doc;
          return { replaceOne: { filter: { _id, revision: previous }, replacement: rest } };
        }),
        { ordered: false },
      );
    }
  }
}
