/**
 * How bucket states are written: each write is a compare-and-set on the bucket's `lastOffset`, the
 * exactly-once guard. Two implementations, chosen once at boot by the server (`ANALYTICS_BUCKET_STORE`,
 * default `auto`), behind this one interface, so nothing above the repository knows which runs:
 * - `PlainBucketStore` (MongoDB): one document per bucket, updated with a conditional `replaceOne`;
 * - `VersionedBucketStore` (FerretDB, which neither makes a conditional update atomic nor updates
 *   without scanning the collection): insert-only versions whose unique `_id` is the compare-and-set.
 *
 * Both store the same shape and readers treat them alike: per bucket (`bucketId`, or `_id` for a
 * document stored before versioning) the document with the highest `previousLastOffset` (the
 * lastOffset it extended) is current.
 */
import { DDSketch } from '@datadog/sketches-js';
import { mongo } from 'mongoose';
import type { TouchedBucket } from '../domain/batch-planner';
import type { Bucket, BucketValues } from '../domain/bucket';
import type { StoredBucket } from './analytics.schemas';

export interface BucketStore {
  /** Takes note of every stored document of a partition that was just loaded. */
  loaded(docs: readonly StoredBucket[]): Promise<void>;
  /**
   * Stores each bucket's new state iff its stored lastOffset is still `previousLastOffset`; throws
   * `WriteConflictError` when another writer got there first. Returns the MongoDB commands sent.
   */
  write(touched: readonly TouchedBucket[]): Promise<number>;
  /** Resolves when the deletes a write started beside the batches have ended. */
  settled(): Promise<void>;
}

export const BUCKET_STORE = Symbol('BUCKET_STORE');
/** The store of the phase roll-ups (`phase_buckets`), of the same kind as BUCKET_STORE. */
export const PHASE_BUCKET_STORE = Symbol('PHASE_BUCKET_STORE');

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

/**
 * A bucket version as stored: its identity, span and guard as fields (what queries and the
 * compare-and-set read), its summaries as one JSON text (`values`) and its latency sketch as one
 * binary. FerretDB converts every field of a document it stores and of every document a query scans,
 * so a bucket whose dozens of summaries are one string costs it a fraction of the CPU to write and
 * to read.
 */
export function toStored(bucket: Bucket, previousLastOffset: number): StoredBucket {
  const { _id, project, exp, arm, minute, res, kind, part, lastOffset, latency, ...values } = bucket;
  return {
    _id: versionId(_id, previousLastOffset),
    bucketId: _id,
    previousLastOffset,
    project,
    exp,
    arm,
    minute,
    ...(res === undefined ? {} : { res }),
    kind,
    part,
    lastOffset,
    values: JSON.stringify(values),
    latency: latency ? new mongo.Binary(Buffer.from(latency.toProto())) : null,
  };
}

/** The bucket a stored version belongs to (a pre-versioning document is its own bucket). */
export function bucketOf(doc: StoredBucket): string {
  return doc.bucketId ?? doc._id;
}

/**
 * A stored version as a bucket; documents written before `values` hold each summary as a field.
 * The summaries are assigned into the destructured fields (a fresh object): spreading two objects
 * into one literal takes V8's slow path, several times the cost of the whole decode without the
 * sketch, and a results read decodes every bucket it merges.
 */
export function fromStored(doc: StoredBucket): Bucket {
  const { bucketId: _bucketId, previousLastOffset: _previous, values, latency, ...rest } = doc;
  const bucket = (
    values === undefined ? rest : Object.assign(rest, JSON.parse(values) as BucketValues)
  ) as Bucket;
  bucket._id = bucketOf(doc);
  bucket.latency = latency ? DDSketch.fromProto(latency.buffer) : null;
  return bucket;
}

/** Base of a stored version (a document stored before versioning counts as a first version). */
export function baseOf(doc: StoredBucket): number {
  return doc.previousLastOffset ?? -1;
}

/** Whether `a` is a later version of its bucket than `b` (ties: deterministic). */
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

/** Waits for every write (never leaves one running unobserved), then throws the first failure. */
export async function settleAll(ps: ReadonlyArray<Promise<unknown>>): Promise<void> {
  const results = await Promise.allSettled(ps);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
