import type { ExperimentSnapshot } from '@llmops/contracts';
import { ensureIndexes, isDuplicateKey, requestCollection } from '@llmops/platform';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model, mongo } from 'mongoose';
import {
  EXPERIMENT_MODEL,
  type ExperimentDocument,
  type PendingEvent,
  type StoredSnapshot,
} from './experiment.schema';

/** A stored experiment as plain objects. */
export interface ExperimentRecord {
  snapshot: ExperimentSnapshot;
  pendingEvent: PendingEvent;
  unpublished: boolean;
  publishedRevision: number;
}

export function toStored(snapshot: ExperimentSnapshot): StoredSnapshot {
  const { forced, ...rest } = snapshot;
  return forced === undefined
    ? { ...rest }
    : { ...rest, forced: Object.entries(forced).map(([userId, arm]) => ({ userId, arm })) };
}

export function fromStored(stored: StoredSnapshot): ExperimentSnapshot {
  const { forced, ...rest } = stored;
  const snapshot: ExperimentSnapshot = { ...rest };
  if (forced !== undefined) {
    const map: Record<string, string> = {};
    for (const f of forced) map[f.userId] = f.arm;
    snapshot.forced = map;
  }
  // MongoDB may hand back optional fields as null; the contract wants them absent.
  for (const k of ['layer', 'targeting', 'forced'] as const) {
    if ((snapshot as Record<string, unknown>)[k] === null) delete snapshot[k];
  }
  return snapshot;
}

function toRecord(doc: ExperimentDocument): ExperimentRecord {
  return {
    snapshot: fromStored(doc.snapshot),
    pendingEvent: doc.pendingEvent,
    unpublished: doc.unpublished,
    publishedRevision: doc.publishedRevision,
  };
}

export type DuplicateKey = { duplicate: true };

@Injectable()
export class ExperimentRepository implements OnModuleInit {
  /**
   * The model's native collection: plain objects in and out, no mongoose document overhead. Every
   * operation is bounded by MONGODB_OPERATION_TIMEOUT_MS (a frozen database gives 503, not a hang).
   */
  private readonly collection: mongo.Collection<ExperimentDocument>;

  constructor(@InjectModel(EXPERIMENT_MODEL) private readonly experiments: Model<ExperimentDocument>) {
    this.collection = requestCollection(experiments);
  }

  /** The schema's indexes exist before the experiments are loaded and any request is served. */
  onModuleInit(): Promise<void> {
    return ensureIndexes(this.experiments);
  }

  /** Inserts a new experiment; `{ duplicate: true }` when the key is taken. */
  async insert(
    snapshot: ExperimentSnapshot,
    pendingEvent: PendingEvent,
  ): Promise<ExperimentRecord | DuplicateKey> {
    const doc: ExperimentDocument = {
      _id: snapshot.key,
      snapshot: toStored(snapshot),
      pendingEvent,
      unpublished: true,
      publishedRevision: 0,
    };
    try {
      await this.collection.insertOne(doc);
    } catch (err) {
      if (isDuplicateKey(err)) return { duplicate: true };
      throw err;
    }
    return toRecord(doc);
  }

  async findByKey(key: string): Promise<ExperimentRecord | null> {
    const doc = await this.collection.findOne({ _id: key });
    return doc ? toRecord(doc) : null;
  }

  /** Every experiment, at boot (not a request: no operation deadline, however many there are). */
  async findAll(): Promise<ExperimentRecord[]> {
    const docs = await this.collection.find({}, { timeoutMS: 0 }).sort({ _id: 1 }).toArray();
    return docs.map(toRecord);
  }

  /** One page in key order: the first `limit` keys after `after`, read through the `_id` index. */
  async page(limit: number, after?: string): Promise<ExperimentRecord[]> {
    const docs = await this.collection
      .find(after === undefined ? {} : { _id: { $gt: after } })
      .sort({ _id: 1 })
      .limit(limit)
      .toArray();
    return docs.map(toRecord);
  }

  async findInLayer(layer: string): Promise<ExperimentSnapshot[]> {
    const docs = await this.collection.find({ 'snapshot.layer.name': layer }).toArray();
    return docs.map((d) => fromStored(d.snapshot));
  }

  async findUnpublished(limit = 100): Promise<ExperimentRecord[]> {
    const docs = await this.collection.find({ unpublished: true }).limit(limit).toArray();
    return docs.map(toRecord);
  }

  /**
   * Replaces the experiment if it is still at `expectedRevision` (optimistic concurrency: no
   * transactions on this server). Returns false when someone else changed it first.
   */
  async replaceIfRevision(
    expectedRevision: number,
    snapshot: ExperimentSnapshot,
    pendingEvent: PendingEvent,
    publishedRevision: number,
  ): Promise<boolean> {
    const result = await this.collection.replaceOne(
      { _id: snapshot.key, 'snapshot.revision': expectedRevision },
      { snapshot: toStored(snapshot), pendingEvent, unpublished: true, publishedRevision },
    );
    return result.matchedCount === 1;
  }

  /**
   * Records that `revision` is on the topic. Matches only while the document is still at that
   * revision: false means a newer change exists (which the caller must make sure gets published).
   */
  async markPublished(key: string, revision: number): Promise<boolean> {
    const result = await this.collection.updateOne(
      { _id: key, 'snapshot.revision': revision },
      { $set: { unpublished: false }, $max: { publishedRevision: revision } },
    );
    return result.matchedCount === 1;
  }

  async countUnpublished(): Promise<number> {
    return this.collection.countDocuments({ unpublished: true });
  }
}
