/**
 * MongoDB side of the aggregation (native driver: the hot path never goes through mongoose).
 *
 * FerretDB (SQLite) facts this is built around, measured before writing it:
 * - an error inside a bulk UPDATE stops the rest of that bulk and its counts are unreliable, so
 *   guarded upserts (E11000 = "already applied") are not used; new documents are inserted with
 *   insertMany (which does continue past duplicate keys) and existing ones are updated with an
 *   exact `lastOffset` compare-and-set, whose matchedCount is reliable;
 * - updates and `$in` reads scan the collection, so the hot path does no reads at all (the
 *   partition state is a cache) and the only updated collection (`buckets`) stays small.
 */
import { DDSketch } from '@datadog/sketches-js';
import { Binary, type Collection, type Db, MongoBulkWriteError, MongoServerError } from 'mongodb';
import type { Bucket } from '../bucket';
import type { BatchPlan } from '../batch-planner';
import {
  PartitionState,
  type PendingDoc,
  type RequestDoc,
  type RevisionDoc,
  type SeenDoc,
} from '../partition-state';

export const COLLECTIONS = {
  buckets: 'buckets',
  seen: 'exposures_seen',
  requests: 'requests',
  revisions: 'feedback_revisions',
  pending: 'pending_feedback',
  experiments: 'experiments',
} as const;

/** Another writer (a previous owner of the partition, or a redelivery) got there first. */
export class WriteConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WriteConflictError';
  }
}

export interface StoredBucket extends Omit<Bucket, 'latency'> {
  latency: Binary | null;
}

export function toStored(b: Bucket): StoredBucket {
  return { ...b, latency: b.latency ? new Binary(Buffer.from(b.latency.toProto())) : null };
}

export function fromStored(doc: StoredBucket): Bucket {
  return { ...doc, latency: doc.latency ? DDSketch.fromProto(doc.latency.buffer) : null };
}

function isDuplicateKey(err: unknown): boolean {
  if (err instanceof MongoBulkWriteError) {
    const errors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
    return errors.length > 0 && errors.every((e) => e.code === 11000);
  }
  return err instanceof MongoServerError && err.code === 11000;
}

export class AggregationRepository {
  readonly buckets: Collection<StoredBucket>;
  private readonly seen: Collection<SeenDoc>;
  private readonly requests: Collection<RequestDoc>;
  private readonly revisions: Collection<RevisionDoc>;
  private readonly pending: Collection<PendingDoc>;

  constructor(db: Db) {
    this.buckets = db.collection<StoredBucket>(COLLECTIONS.buckets);
    this.seen = db.collection<SeenDoc>(COLLECTIONS.seen);
    this.requests = db.collection<RequestDoc>(COLLECTIONS.requests);
    this.revisions = db.collection<RevisionDoc>(COLLECTIONS.revisions);
    this.pending = db.collection<PendingDoc>(COLLECTIONS.pending);
  }

  async ensureIndexes(): Promise<void> {
    await Promise.all([
      // Results API: buckets of one experiment in a time window.
      this.buckets.createIndex({ exp: 1, minute: 1 }),
      // Partition state load after (re)assignment: find({ part }).
      this.buckets.createIndex({ part: 1 }),
      this.seen.createIndex({ part: 1 }),
      this.requests.createIndex({ part: 1 }),
      this.revisions.createIndex({ part: 1 }),
      this.pending.createIndex({ part: 1 }),
    ]);
  }

  /** Loads everything partition number `part` owns (five reads; only on (re)assignment or conflict). */
  async loadPartition(part: number): Promise<PartitionState> {
    const state = new PartitionState(part);
    const [buckets, seen, requests, revisions, pending] = await Promise.all([
      this.buckets.find({ part }).toArray(),
      this.seen.find({ part }).toArray(),
      this.requests.find({ part }).toArray(),
      this.revisions.find({ part }).toArray(),
      this.pending.find({ part }).toArray(),
    ]);
    for (const b of buckets) state.buckets.set(b._id, fromStored(b));
    for (const s of seen) state.seen.set(s._id, s);
    for (const r of requests) state.requests.set(r._id, r);
    for (const r of revisions) state.addRevision(r);
    for (const p of pending) state.addPending(p);
    return state;
  }

  /**
   * Writes a plan: the insert-only state documents first, then the buckets. A crash between the two
   * is repaired on redelivery (the state then names this batch's messages as creators, and their
   * contributions are recomputed). Returns the number of MongoDB commands sent.
   */
  async write(plan: BatchPlan): Promise<number> {
    let commands = 0;
    const insertAll = <T extends { _id: string }>(
      col: Collection<T>,
      docs: T[],
      what: string,
    ): Array<Promise<void>> => {
      if (docs.length === 0) return [];
      commands++;
      return [
        col
          .insertMany(docs as unknown as Parameters<Collection<T>['insertMany']>[0], { ordered: false })
          .then(() => undefined)
          .catch((err: unknown) => {
            if (isDuplicateKey(err)) throw new WriteConflictError(`${what}: a document already exists`);
            throw err;
          }),
      ];
    };
    await settleAll([
      ...insertAll(this.seen, plan.seen, COLLECTIONS.seen),
      ...insertAll(this.requests, plan.requests, COLLECTIONS.requests),
      ...insertAll(this.revisions, plan.revisions, COLLECTIONS.revisions),
      ...insertAll(this.pending, plan.pending, COLLECTIONS.pending),
    ]);

    const fresh = plan.buckets.filter((t) => t.isNew).map((t) => toStored(t.bucket));
    const updates = plan.buckets.filter((t) => !t.isNew);
    const writes = insertAll(this.buckets, fresh, COLLECTIONS.buckets);
    if (updates.length > 0) {
      commands++;
      writes.push(
        this.buckets
          .bulkWrite(
            updates.map((t) => {
              const { _id, ...rest } = toStored(t.bucket);
              return {
                replaceOne: { filter: { _id, lastOffset: t.previousLastOffset }, replacement: rest },
              };
            }),
            { ordered: false },
          )
          .then((res) => {
            if (res.matchedCount !== updates.length) {
              throw new WriteConflictError(
                `buckets: ${updates.length - res.matchedCount} of ${updates.length} moved since they were loaded`,
              );
            }
          }),
      );
    }
    await settleAll(writes);
    return commands;
  }
}

/** Waits for every write (never leaves one running unobserved), then throws the first failure. */
async function settleAll(ps: Array<Promise<void>>): Promise<void> {
  const results = await Promise.allSettled(ps);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
