import { isDuplicateKey, type MongoServerKind, requestCollection, uuidv7Time } from '@llmops/platform';
import { Inject, Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model, mongo } from 'mongoose';
import { SNAPSHOT, SNAPSHOT_RECORD, type SnapshotDoc, type SnapshotRecordDoc } from './datasets.schemas';
import { MONGO_SERVER_KIND } from './example-layout';

/** A snapshot ref: its 64-hex content id, its sequence number, or `latest`. */
export const SNAPSHOT_ID = /^[0-9a-f]{64}$/;
const SEQUENCE = /^[1-9][0-9]{0,15}$/;

/**
 * Snapshots and their records. The reads of the read routes (`resolve`, `page`) are request-path
 * operations with the operation deadline. Everything a snapshot build does (content id lookup,
 * sequence lookup, insert, publication mark) has none: a build is a long operation, and a loaded
 * database must not fail it after its records are written. Writing and deleting records is bulk work
 * without one either (a snapshot may hold millions of records).
 */
@Injectable()
export class SnapshotRepository {
  private readonly snapshots: mongo.Collection<SnapshotDoc>;
  private readonly background: mongo.Collection<SnapshotDoc>;
  private readonly records: mongo.Collection<SnapshotRecordDoc>;

  constructor(
    @InjectModel(SNAPSHOT) model: Model<SnapshotDoc>,
    @InjectModel(SNAPSHOT_RECORD) recordModel: Model<SnapshotRecordDoc>,
    @Inject(MONGO_SERVER_KIND) private readonly server: MongoServerKind,
  ) {
    this.snapshots = requestCollection(model);
    this.background = model.collection as unknown as mongo.Collection<SnapshotDoc>;
    this.records = recordModel.collection as unknown as mongo.Collection<SnapshotRecordDoc>;
  }

  /** The dataset's snapshot named by `ref` (64-hex id, sequence number or `latest`), or null. */
  resolve(project: string, dataset: string, ref: string): Promise<SnapshotDoc | null> {
    const scope = { project, dataset };
    if (ref === 'latest') {
      return this.snapshots.findOne(scope, { sort: { sequence: -1 } }) as Promise<SnapshotDoc | null>;
    }
    if (SNAPSHOT_ID.test(ref))
      return this.snapshots.findOne({ ...scope, id: ref }) as Promise<SnapshotDoc | null>;
    if (SEQUENCE.test(ref)) {
      return this.snapshots.findOne({ ...scope, sequence: Number(ref) }) as Promise<SnapshotDoc | null>;
    }
    return Promise.resolve(null);
  }

  /** The dataset's snapshots in sequence order after `after`, at most `limit`. */
  page(project: string, dataset: string, limit: number, after?: number): Promise<SnapshotDoc[]> {
    return this.snapshots
      .find({ project, dataset, ...(after === undefined ? {} : { sequence: { $gt: after } }) })
      .sort({ sequence: 1 })
      .limit(limit)
      .toArray() as Promise<SnapshotDoc[]>;
  }

  /** The dataset's snapshot with content id `id`, or null (snapshot builds: no deadline). */
  withContent(project: string, dataset: string, id: string): Promise<SnapshotDoc | null> {
    return this.background.findOne({ project, dataset, id }) as Promise<SnapshotDoc | null>;
  }

  /** The highest sequence number of the dataset's snapshots (0 when it has none; no deadline). */
  async lastSequence(project: string, dataset: string): Promise<number> {
    const last = await this.background.findOne({ project, dataset }, { sort: { sequence: -1 } });
    return last?.sequence ?? 0;
  }

  /**
   * Stores a snapshot; 'conflict' when the dataset already has one with its content id or its
   * sequence number (a concurrent build won: the caller looks again).
   */
  async insert(doc: SnapshotDoc): Promise<'created' | 'conflict'> {
    try {
      await this.background.insertOne(doc);
      return 'created';
    } catch (err) {
      if (isDuplicateKey(err)) return 'conflict';
      throw err;
    }
  }

  async markPublished(_id: string): Promise<void> {
    await this.background.updateOne({ _id }, { $set: { published: true } });
  }

  /** Snapshots whose creation event is not on Kafka yet (boot re-publication). */
  unpublished(): Promise<SnapshotDoc[]> {
    return this.background.find({ published: false }).sort({ createdAt: 1 }).toArray() as Promise<
      SnapshotDoc[]
    >;
  }

  /**
   * Writes one chunk of a build's records, each as its canonical JSON text (`json`), the bytes the
   * snapshot id hashes. Ordered, so that rows are stored in `i` order (a build writes its chunks in
   * that order, one at a time): FerretDB downloads read them back in natural order.
   */
  async insertRecords(records: SnapshotRecordDoc[]): Promise<void> {
    if (records.length > 0) await this.records.insertMany(records, { ordered: true });
  }

  /**
   * A cursor over one split of a build's records (`i` and the canonical JSON), `batchSize` per round
   * trip, without an operation deadline (a download lasts as long as the client reads). In snapshot
   * order (`i` ascending), obtained per server:
   * - MongoDB: sorted through the `{build, split, i}` index, which streams.
   * - FerretDB: in natural order, unsorted. FerretDB pushes no filter or sort down (every query scans
   *   the collection) and sorts a whole result in its own memory before the first batch, which a
   *   large split does not survive; a build writes its records in `i` order, one chunk at a time,
   *   so its rows come back in that order. The reader must still check that `i` increases.
   */
  readRecords(
    build: string,
    split: string,
    batchSize: number,
  ): mongo.FindCursor<Pick<SnapshotRecordDoc, 'i' | 'json'>> {
    return this.records.find<Pick<SnapshotRecordDoc, 'i' | 'json'>>(
      { build, split },
      {
        ...(this.server === 'mongodb' ? { sort: { i: 1 } } : {}),
        projection: { _id: 0, i: 1, json: 1 },
        batchSize,
      },
    );
  }

  /** Deletes the records of a build (failed builds, builds that matched an existing snapshot). */
  async deleteRecords(build: string): Promise<void> {
    await this.records.deleteMany({ build });
  }

  /**
   * Builds whose records no snapshot owns, among those started before `before` (build ids are
   * UUIDv7s: they carry their start time), so a build still streaming elsewhere is never taken.
   */
  async orphanBuilds(before: Date): Promise<string[]> {
    const builds = (await this.records.distinct('build')) as string[];
    const old = builds.filter((b) => uuidv7Time(b) < before.getTime());
    if (old.length === 0) return [];
    const owned = await this.background.find({ build: { $in: old } }, { projection: { build: 1 } }).toArray();
    const ownedBuilds = new Set(owned.map((s) => s.build));
    return old.filter((b) => !ownedBuilds.has(b));
  }

  /** Deletes one snapshot and its records. */
  async remove(snapshot: Pick<SnapshotDoc, '_id' | 'build'>): Promise<void> {
    await this.deleteRecords(snapshot.build);
    await this.background.deleteOne({ _id: snapshot._id });
  }

  /** Deletes every snapshot of a dataset and their records. */
  async deleteDataset(project: string, dataset: string): Promise<number> {
    const docs = await this.background
      .find({ project, dataset }, { projection: { _id: 1, build: 1 } })
      .toArray();
    for (const { build } of docs) await this.deleteRecords(build);
    await this.background.deleteMany({ project, dataset });
    return docs.length;
  }
}
