/**
 * MongoDB side of the aggregation (native driver: the hot path never goes through mongoose).
 *
 * FerretDB (SQLite) facts this is built around, measured before writing it:
 * - an error inside a bulk UPDATE stops the rest of that bulk and its counts are unreliable, so
 *   guarded upserts (E11000 = "already applied") are not used; documents are inserted with
 *   insertMany (which does continue past duplicate keys);
 * - only a `find` whose filter is exactly `{ _id: <string> }` reaches SQLite's index; every update
 *   and delete, even by `_id`, and every other read scans the whole collection. Under load one
 *   bucket `replaceOne` cost ~37 ms (analytics-consumer bench, 2026-11-27). So the hot path never
 *   updates: buckets are VERSIONED and insert-only (see `versionId`), and it does no reads (the
 *   partition state is a cache).
 *
 * Bucket versions. A bucket's new state is inserted as a new document whose `_id` names the
 * version it supersedes: `${bucketId}^${previousLastOffset}` (-1 for a bucket's first version).
 * Two writers extending the same version collide on that unique `_id` (E11000 -> WriteConflictError,
 * the batch is retried on a fresh load), which is the compare-and-set the design needs, atomic on
 * MongoDB and on FerretDB alike. Readers keep, per bucket (`b`), the version with the highest
 * `lastOffset` (`latestVersions`). Superseded versions are deleted in bulk, at most one
 * `deleteMany({ _id: { $in } })` per `bucketGcIntervalMs` (a delete scans the collection on FerretDB
 * too; one per batch cost ~86 ms under load). Until then, and after a crash, they are only extra
 * documents that readers skip; `loadPartition` queues any it finds for deletion.
 *
 * A writer two or more versions behind finds the id it extends free again once that version was
 * deleted, and stores a stale version. Readers still choose the newest (a version at lastOffset L
 * holds exactly the contributions of the offsets up to L), and the superseding write queues the
 * stale one for deletion. Such a writer also re-inserts the state documents (seen users, requests,
 * revisions) of offsets that were already applied, which collide and stop its batch first.
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
  /** The version id, `${b}^${previousLastOffset}` (see `versionId`). */
  _id: string;
  /**
   * The bucket id (`bucketId`): every version of one bucket shares it. Absent in documents written
   * before buckets were versioned (their `_id` is the bucket id); read through `bucketOf`.
   */
  b?: string;
  latency: Binary | null;
}

/** Id of the version that supersedes the one whose lastOffset was `previousLastOffset`. */
export function versionId(bucketId: string, previousLastOffset: number): string {
  return `${bucketId}^${previousLastOffset}`;
}

export function toStored(bucket: Bucket, previousLastOffset: number): StoredBucket {
  return {
    ...bucket,
    _id: versionId(bucket._id, previousLastOffset),
    b: bucket._id,
    latency: bucket.latency ? new Binary(Buffer.from(bucket.latency.toProto())) : null,
  };
}

/** The bucket a stored version belongs to (a pre-versioning document is its own bucket). */
export function bucketOf(doc: StoredBucket): string {
  return doc.b ?? doc._id;
}

export function fromStored(doc: StoredBucket): Bucket {
  const { b: _b, ...rest } = doc;
  return {
    ...rest,
    _id: bucketOf(doc),
    latency: doc.latency ? DDSketch.fromProto(doc.latency.buffer) : null,
  };
}

/**
 * Per bucket, the stored version with the highest lastOffset (superseded ones may linger briefly),
 * in bucket-id order: the store returns documents in insertion order, which moves with every new
 * version, and merging floating-point sums in a different order changes the last digits.
 */
export function latestVersions(docs: readonly StoredBucket[]): StoredBucket[] {
  const latest = new Map<string, StoredBucket>();
  for (const doc of docs) {
    const current = latest.get(bucketOf(doc));
    if (!current || doc.lastOffset > current.lastOffset) latest.set(bucketOf(doc), doc);
  }
  return [...latest.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([, doc]) => doc);
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
  /** Newest stored version of each bucket this instance wrote or loaded (what its next write supersedes). */
  private readonly versions = new Map<string, { id: string; lastOffset: number }>();
  /** Superseded version ids waiting for the next bulk delete. */
  private readonly superseded = new Set<string>();
  private lastGcAt = 0;
  private readonly bucketGcIntervalMs: number;

  constructor(db: Db, options: { bucketGcIntervalMs?: number } = {}) {
    this.bucketGcIntervalMs = options.bucketGcIntervalMs ?? 2_000;
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
    const latest = latestVersions(buckets);
    for (const b of latest) {
      state.buckets.set(bucketOf(b), fromStored(b));
      this.versions.set(bucketOf(b), { id: b._id, lastOffset: b.lastOffset });
    }
    if (latest.length < buckets.length) {
      const kept = new Set(latest.map((b) => b._id));
      for (const b of buckets) if (!kept.has(b._id)) this.superseded.add(b._id);
    }
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

    if (plan.buckets.length > 0) {
      // New versions, inserted only: a taken version id means another writer got there first.
      await settleAll(
        insertAll(
          this.buckets,
          plan.buckets.map((t) => toStored(t.bucket, t.previousLastOffset)),
          COLLECTIONS.buckets,
        ),
      );
      for (const t of plan.buckets) {
        const written = {
          id: versionId(t.bucket._id, t.previousLastOffset),
          lastOffset: t.bucket.lastOffset,
        };
        const previous = this.versions.get(t.bucket._id);
        if (previous && previous.lastOffset >= written.lastOffset) {
          // Stale (see the header): what this instance knows is newer, so the new one goes.
          this.superseded.add(written.id);
          continue;
        }
        if (previous) this.superseded.add(previous.id);
        this.versions.set(t.bucket._id, written);
      }
    }
    if (this.superseded.size > 0 && Date.now() - this.lastGcAt >= this.bucketGcIntervalMs) {
      const ids = [...this.superseded];
      commands++;
      await this.buckets.deleteMany({ _id: { $in: ids } });
      for (const id of ids) this.superseded.delete(id);
      this.lastGcAt = Date.now();
    }
    return commands;
  }
}

/** Waits for every write (never leaves one running unobserved), then throws the first failure. */
async function settleAll(ps: Array<Promise<void>>): Promise<void> {
  const results = await Promise.allSettled(ps);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
