import { DEFAULT_PROJECT, experimentTopicKey, type ExperimentSnapshot } from '@llmops/contracts';
import { dropIndexes, ensureIndexes, isDuplicateKey, LOGGER, requestCollection } from '@llmops/platform';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model, mongo } from 'mongoose';
import type { Logger } from 'pino';
import {
  type AuditEvent,
  EXPERIMENT_MODEL,
  type ExperimentDocument,
  type PendingEvent,
  REPLACED_INDEXES,
  type StoredSnapshot,
} from './experiment.schema';

/** A stored experiment as plain objects. */
export interface ExperimentRecord {
  project: string;
  snapshot: ExperimentSnapshot;
  pendingEvent: PendingEvent;
  /** Audit events not yet acknowledged by Kafka (published with `pendingEvent`). */
  pendingAudits: AuditEvent[];
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
    project: doc.project ?? DEFAULT_PROJECT,
    snapshot: fromStored(doc.snapshot),
    pendingEvent: doc.pendingEvent,
    pendingAudits: doc.pendingAudits ?? [],
    unpublished: doc.unpublished,
    publishedRevision: doc.publishedRevision,
  };
}

export type DuplicateKey = { duplicate: true };

/**
 * The documents of one project. In `default` also those without `project`: a replica of the
 * previous version may still write one during a rolling upgrade, after this version's boot
 * migration ran.
 */
function inProject(project: string): mongo.Filter<ExperimentDocument> {
  return project === DEFAULT_PROJECT
    ? { $or: [{ project: DEFAULT_PROJECT }, { project: { $exists: false } }] }
    : { project };
}

@Injectable()
export class ExperimentRepository implements OnModuleInit {
  /**
   * The model's native collection: plain objects in and out, no mongoose document overhead. Every
   * operation is bounded by MONGODB_OPERATION_TIMEOUT_MS (a frozen database gives 503, not a hang).
   */
  private readonly collection: mongo.Collection<ExperimentDocument>;

  constructor(
    @InjectModel(EXPERIMENT_MODEL) private readonly experiments: Model<ExperimentDocument>,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.collection = requestCollection(experiments);
  }

  /**
   * Before the experiments are loaded and any request is served: documents written before
   * projects existed move to `default` (their `_id`, the key, is already `default`'s), the schema's
   * indexes exist, and the indexes they replace are gone. Idempotent; no deadline (boot).
   */
  async onModuleInit(): Promise<void> {
    const migrated = await this.experiments.collection.updateMany(
      { project: { $exists: false } },
      { $set: { project: DEFAULT_PROJECT } },
      { timeoutMS: 0 },
    );
    if (migrated.modifiedCount > 0)
      this.logger.info({ experiments: migrated.modifiedCount }, 'experiments moved to project default');
    await ensureIndexes(this.experiments);
    await dropIndexes(this.experiments.collection, REPLACED_INDEXES);
  }

  /** Inserts a new experiment; `{ duplicate: true }` when the project has one with that key. */
  async insert(
    project: string,
    snapshot: ExperimentSnapshot,
    pendingEvent: PendingEvent,
    pendingAudits: AuditEvent[],
  ): Promise<ExperimentRecord | DuplicateKey> {
    const doc: ExperimentDocument = {
      _id: experimentTopicKey(snapshot.key, project),
      project,
      snapshot: toStored(snapshot),
      pendingEvent,
      pendingAudits,
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

  /** The project's experiment `key` (another project's never: its `_id` differs). */
  async findByKey(project: string, key: string): Promise<ExperimentRecord | null> {
    const doc = await this.collection.findOne({ _id: experimentTopicKey(key, project) });
    return doc ? toRecord(doc) : null;
  }

  /** Every experiment, at boot (not a request: no operation deadline, however many there are). */
  async findAll(): Promise<ExperimentRecord[]> {
    const docs = await this.collection.find({}, { timeoutMS: 0 }).sort({ _id: 1 }).toArray();
    return docs.map(toRecord);
  }

  /**
   * One page of a project's experiments in key order: the first `limit` keys after `after`. Within
   * a project every `_id` is the key behind the same prefix, so `_id` order is key order.
   */
  async page(project: string, limit: number, after?: string): Promise<ExperimentRecord[]> {
    const docs = await this.collection
      .find({
        ...inProject(project),
        ...(after === undefined ? {} : { _id: { $gt: experimentTopicKey(after, project) } }),
      })
      .sort({ _id: 1 })
      .limit(limit)
      .toArray();
    return docs.map(toRecord);
  }

  /** The project's experiments in `layer` (layers are per project). */
  async findInLayer(project: string, layer: string): Promise<ExperimentSnapshot[]> {
    const docs = await this.collection
      .find({ ...inProject(project), 'snapshot.layer.name': layer })
      .toArray();
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
    project: string,
    expectedRevision: number,
    snapshot: ExperimentSnapshot,
    pendingEvent: PendingEvent,
    pendingAudits: AuditEvent[],
    publishedRevision: number,
  ): Promise<boolean> {
    const result = await this.collection.replaceOne(
      { _id: experimentTopicKey(snapshot.key, project), 'snapshot.revision': expectedRevision },
      {
        project,
        snapshot: toStored(snapshot),
        pendingEvent,
        pendingAudits,
        unpublished: true,
        publishedRevision,
      },
    );
    return result.matchedCount === 1;
  }

  /**
   * Records that `revision` and its pending audits are on Kafka. Matches only while the document
   * is still at that revision (every change of `pendingAudits` is a new revision, so they are the
   * ones sent): false means a newer change exists (which the caller must make sure gets published).
   */
  async markPublished(project: string, key: string, revision: number): Promise<boolean> {
    const result = await this.collection.updateOne(
      { _id: experimentTopicKey(key, project), 'snapshot.revision': revision },
      { $set: { unpublished: false, pendingAudits: [] }, $max: { publishedRevision: revision } },
    );
    return result.matchedCount === 1;
  }

  async countUnpublished(): Promise<number> {
    return this.collection.countDocuments({ unpublished: true });
  }
}
