/**
 * MongoDB side of the aggregation: the partition state and the versioned buckets. The hot path uses
 * the native collections behind the models, never mongoose documents.
 *
 * FerretDB (SQLite) facts this is built around, measured before writing it:
 * - an error inside a bulk UPDATE stops the rest of that bulk and its counts are unreliable, so
 *   guarded upserts (E11000 = "already applied") are not used; documents are inserted with
 *   insertMany (which does continue past duplicate keys);
 * - only a `find` whose filter is exactly `{ _id: <string> }` reaches SQLite's index; every update
 *   and delete, even by `_id`, and every other read scans the whole collection, so an update
 *   costs a collection scan (figures in docs/perf/HISTORY.md). So the hot path never
 *   updates: buckets are VERSIONED and insert-only (see `versionId`), and it does no reads (the
 *   partition state is a cache).
 *
 * Bucket versions. A bucket's new state is inserted as a new document whose `_id` names the
 * version it supersedes: `${bucketId}^${base}`, where `base` (stored as `previousLastOffset`) is the lastOffset
 * of the superseded version (-1 for a bucket's first version). Two writers extending the same
 * version collide on that unique `_id` (E11000 -> WriteConflictError, the batch is retried on a
 * fresh load): the compare-and-set the design needs, atomic on MongoDB and on FerretDB alike.
 * Superseded versions are deleted in bulk, at most one `deleteMany` per `bucketGcIntervalMs` (a
 * delete scans the collection on FerretDB too, too costly to run once per batch). Until then,
 * and after a crash, they are extra documents that readers skip; `loadPartition` queues any it
 * finds for deletion.
 *
 * Which version is current: the one with the highest BASE (`latestVersions`), not the highest
 * lastOffset. Along a legitimate chain bases strictly increase. A deleted version's id is free
 * again, so a writer two or more versions behind (a zombie still finishing a batch after its
 * partition moved) can store a fork on it; its base is that old offset, lower than the chain's
 * current base, so the fork is ignored even when its own lastOffset is higher, and the next load
 * queues it for deletion. Such a writer usually fails earlier anyway: it re-inserts state
 * documents (seen users, requests, revisions) that the new owner already inserted. What remains:
 * a zombie that keeps winning those races for several consecutive batches before its consumer
 * notices the rebalance could extend its own fork past the chain (see the README's limitations).
 */
import { DDSketch } from '@datadog/sketches-js';
import { Inject, Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { isDuplicateKey, SERVICE_CONFIG } from '@llmops/platform';
import { type Model, mongo } from 'mongoose';
import type { AnalyticsConfig } from '../config/analytics.config';
import type { BatchPlan } from '../domain/batch-planner';
import type { Bucket } from '../domain/bucket';
import { nextTurn } from '../domain/next-turn';
import {
  PartitionState,
  type PendingDoc,
  type RequestDoc,
  type RevisionDoc,
  type SeenDoc,
} from '../domain/partition-state';
import { BUCKET, PENDING, REQUEST, REVISION, SEEN, type StoredBucket } from './analytics.schemas';
import { collectionFor, type ReadPath } from './read-path';

/**
 * Another writer (a previous owner of the partition, or a redelivery) got there first. Transient:
 * the consumer retries, and the retry plans against freshly loaded state.
 */
export class WriteConflictError extends Error {
  readonly transient = true;

  constructor(message: string) {
    super(message);
    this.name = 'WriteConflictError';
  }
}

/** Id of the version that supersedes the one whose lastOffset was `previousLastOffset`. */
export function versionId(bucketId: string, previousLastOffset: number): string {
  return `${bucketId}^${previousLastOffset}`;
}

export function toStored(bucket: Bucket, previousLastOffset: number): StoredBucket {
  return {
    ...bucket,
    _id: versionId(bucket._id, previousLastOffset),
    bucketId: bucket._id,
    previousLastOffset,
    latency: bucket.latency ? new mongo.Binary(Buffer.from(bucket.latency.toProto())) : null,
  };
}

/** The bucket a stored version belongs to (a pre-versioning document is its own bucket). */
export function bucketOf(doc: StoredBucket): string {
  return doc.bucketId ?? doc._id;
}

export function fromStored(doc: StoredBucket): Bucket {
  const { bucketId: _bucketId, previousLastOffset: _previous, ...rest } = doc;
  return {
    ...rest,
    _id: bucketOf(doc),
    latency: doc.latency ? DDSketch.fromProto(doc.latency.buffer) : null,
  };
}

/** Base of a stored version (a document stored before versioning counts as a first version). */
function baseOf(doc: StoredBucket): number {
  return doc.previousLastOffset ?? -1;
}

/** Whether `a` is a later version of its bucket than `b` (see the header; ties: deterministic). */
function isNewer(a: StoredBucket, b: StoredBucket): boolean {
  if (baseOf(a) !== baseOf(b)) return baseOf(a) > baseOf(b);
  if (a.lastOffset !== b.lastOffset) return a.lastOffset > b.lastOffset;
  return a._id > b._id;
}

/**
 * Per bucket, the current version (highest base; superseded versions and stale forks may linger
 * until deleted), in bucket-id order: the store returns documents in insertion order, which moves
 * with every new version, and merging floating-point sums in a different order changes the last
 * digits.
 */
export function latestVersions(docs: readonly StoredBucket[]): StoredBucket[] {
  const latest = new Map<string, StoredBucket>();
  for (const doc of docs) {
    const current = latest.get(bucketOf(doc));
    if (!current || isNewer(doc, current)) latest.set(bucketOf(doc), doc);
  }
  return [...latest.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([, doc]) => doc);
}

interface VersionRef {
  id: string;
  base: number;
  lastOffset: number;
}

function refOf(doc: StoredBucket): VersionRef {
  return { id: doc._id, base: baseOf(doc), lastOffset: doc.lastOffset };
}

/** Buckets read or decoded between two turns of the event loop. */
const SLICE = 250;

@Injectable()
export class AggregationRepository {
  /**
   * Current version of each bucket this instance wrote or loaded (what its next write supersedes).
   * Entries of partitions this instance no longer owns stay until it loads them again; the partition
   * state caches the buckets themselves, so this adds one small entry per cached bucket.
   */
  private readonly versions = new Map<string, VersionRef>();
  /**
   * Superseded version ids waiting for the next bulk delete. Deleting by id alone cannot remove a
   * bucket's current version: an id names its base, a queued id's base is below a base this instance
   * saw, and a document re-inserted later under a freed id is a fork, never current.
   */
  private readonly superseded = new Set<string>();
  private lastGcAt = 0;

  constructor(
    @InjectModel(BUCKET) private readonly buckets: Model<StoredBucket>,
    @InjectModel(SEEN) private readonly seen: Model<SeenDoc>,
    @InjectModel(REQUEST) private readonly requests: Model<RequestDoc>,
    @InjectModel(REVISION) private readonly revisions: Model<RevisionDoc>,
    @InjectModel(PENDING) private readonly pending: Model<PendingDoc>,
    @Inject(SERVICE_CONFIG)
    private readonly config: Pick<AnalyticsConfig, 'ANALYTICS_BUCKET_GC_INTERVAL_MS'>,
  ) {}

  /** Loads everything partition number `part` owns (five reads; only on (re)assignment or conflict). */
  async loadPartition(part: number): Promise<PartitionState> {
    const state = new PartitionState(part);
    const [buckets, seen, requests, revisions, pending] = await Promise.all([
      collectionFor(this.buckets, 'background').find({ part }).toArray(),
      collectionFor(this.seen, 'background').find({ part }).toArray(),
      collectionFor(this.requests, 'background').find({ part }).toArray(),
      collectionFor(this.revisions, 'background').find({ part }).toArray(),
      collectionFor(this.pending, 'background').find({ part }).toArray(),
    ]);
    const latest = latestVersions(buckets);
    for (const b of latest) {
      state.buckets.set(bucketOf(b), fromStored(b));
      this.versions.set(bucketOf(b), refOf(b));
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
   * The current version of every bucket of `experiment` whose minute is in [fromMinute, toMinute),
   * read in batches and decoded in slices, letting other requests run in between.
   */
  async bucketsInWindow(
    experiment: string,
    fromMinute: number,
    toMinute: number,
    path: ReadPath,
  ): Promise<Bucket[]> {
    const docs: StoredBucket[] = [];
    const cursor = collectionFor(this.buckets, path)
      .find({ exp: experiment, minute: { $gte: fromMinute, $lt: toMinute } })
      .batchSize(SLICE);
    for await (const doc of cursor) {
      docs.push(doc);
      if (docs.length % SLICE === 0) await nextTurn();
    }
    const buckets: Bucket[] = [];
    for (const doc of latestVersions(docs)) {
      buckets.push(fromStored(doc));
      if (buckets.length % SLICE === 0) await nextTurn();
    }
    return buckets;
  }

  /**
   * Writes a plan: the insert-only state documents first, then the buckets. A crash between the two
   * is repaired on redelivery (the state then names this batch's messages as creators, and their
   * contributions are recomputed). Returns the number of MongoDB commands sent.
   */
  async write(plan: BatchPlan): Promise<number> {
    let commands = 0;
    const insertAll = <T extends mongo.Document>(model: Model<T>, docs: T[]): Array<Promise<void>> => {
      if (docs.length === 0) return [];
      commands++;
      return [
        collectionFor(model, 'background')
          .insertMany(docs as mongo.OptionalUnlessRequiredId<T>[], { ordered: false })
          .then(() => undefined)
          .catch((err: unknown) => {
            if (isDuplicateKey(err))
              throw new WriteConflictError(`${model.collection.collectionName}: a document already exists`);
            throw err;
          }),
      ];
    };
    await settleAll([
      ...insertAll(this.seen, plan.seen),
      ...insertAll(this.requests, plan.requests),
      ...insertAll(this.revisions, plan.revisions),
      ...insertAll(this.pending, plan.pending),
    ]);

    if (plan.buckets.length > 0) {
      // New versions, inserted only: a taken version id means another writer got there first.
      await settleAll(
        insertAll(
          this.buckets,
          plan.buckets.map((t) => toStored(t.bucket, t.previousLastOffset)),
        ),
      );
      for (const t of plan.buckets) {
        const written: VersionRef = {
          id: versionId(t.bucket._id, t.previousLastOffset),
          base: t.previousLastOffset,
          lastOffset: t.bucket.lastOffset,
        };
        const previous = this.versions.get(t.bucket._id);
        if (previous && previous.base >= written.base) {
          // A fork below what this instance knows (see the header): it is the one to go.
          this.superseded.add(written.id);
          continue;
        }
        if (previous) this.superseded.add(previous.id);
        this.versions.set(t.bucket._id, written);
      }
    }
    if (
      this.superseded.size > 0 &&
      Date.now() - this.lastGcAt >= this.config.ANALYTICS_BUCKET_GC_INTERVAL_MS
    ) {
      const ids = [...this.superseded];
      commands++;
      // `$in` on `_id`: one scan on FerretDB, half the cost of an `$or` of per-id conditions.
      await collectionFor(this.buckets, 'background').deleteMany({ _id: { $in: ids } });
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
