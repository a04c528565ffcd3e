/**
 * The bucket store for MongoDB: one document per bucket (`_id` = bucket id). A new state replaces
 * the stored one with `replaceOne({ _id, lastOffset: previousLastOffset })`: MongoDB applies a
 * single-document write atomically, filter included, so of two writers extending the same lastOffset
 * exactly one matches, and the other sees `matchedCount` short and gets a WriteConflictError. A
 * bucket's first state is an insert, whose unique `_id` is the compare-and-set. The documents also
 * keep `bucketId` and `previousLastOffset`, so readers need not know which store wrote them.
 *
 * A database the versioned store wrote is taken over partition by partition: a load copies each
 * bucket's current version to its plain document and deletes the versions.
 */
import { isDuplicateKey } from '@llmops/platform';
import type { Model, mongo } from 'mongoose';
import type { TouchedBucket } from '../domain/batch-planner';
import type { StoredBucket } from './analytics.schemas';
import { bucketOf, type BucketStore, latestVersions, toStored, WriteConflictError } from './bucket-store';
import { collectionFor } from './read-path';

export class PlainBucketStore implements BucketStore {
  constructor(private readonly buckets: Model<StoredBucket>) {}

  async loaded(docs: readonly StoredBucket[]): Promise<void> {
    const versions = docs.filter((d) => d._id !== bucketOf(d)).map((d) => d._id);
    if (versions.length === 0) return;
    const collection = collectionFor(this.buckets, 'background');
    const current = latestVersions(docs).filter((d) => d._id !== bucketOf(d));
    if (current.length > 0) {
      await collection.bulkWrite(
        current.map((d) => ({
          replaceOne: { filter: { _id: bucketOf(d) }, replacement: { ...d, _id: bucketOf(d) }, upsert: true },
        })),
        { ordered: false },
      );
    }
    await collection.deleteMany({ _id: { $in: versions } });
  }

  /** Nothing runs beside the batches: `write` awaits all it sends. */
  settled(): Promise<void> {
    return Promise.resolve();
  }

  async write(touched: readonly TouchedBucket[]): Promise<number> {
    if (touched.length === 0) return 0;
    const writes: mongo.AnyBulkWriteOperation<StoredBucket>[] = touched.map(
      ({ bucket, previousLastOffset }) => {
        const doc = { ...toStored(bucket, previousLastOffset), _id: bucket._id };
        return previousLastOffset < 0
          ? { insertOne: { document: doc } }
          : { replaceOne: { filter: { _id: bucket._id, lastOffset: previousLastOffset }, replacement: doc } };
      },
    );
    const replaces = writes.filter((w) => 'replaceOne' in w).length;
    const result = await collectionFor(this.buckets, 'background')
      .bulkWrite(writes, { ordered: false })
      .catch((err: unknown) => {
        if (isDuplicateKey(err)) throw new WriteConflictError('buckets: the bucket already exists');
        throw err;
      });
    if (result.matchedCount < replaces)
      throw new WriteConflictError('buckets: another writer moved a bucket first');
    return 1;
  }
}
