import type { Model } from 'mongoose';
import type { Logger } from 'pino';
import { type Bucket, emptyBucket } from '../domain/bucket';
import type { StoredBucket } from './analytics.schemas';
import { versionId } from './bucket-store';
import { VersionedBucketStore } from './versioned-bucket.store';

/** A bulk delete the test settles by hand. */
interface HeldDelete {
  ids: string[];
  resolve: () => void;
  reject: (err: Error) => void;
}

/** A model whose collection stores every insert at once and holds every delete until the test says. */
function heldModel() {
  const inserted: string[] = [];
  const deletes: HeldDelete[] = [];
  const collection = {
    insertMany: async (docs: StoredBucket[]) => {
      inserted.push(...docs.map((d) => d._id));
      return { insertedCount: docs.length };
    },
    // deleteByIds: `{ _id: { $in } }` of the superseded versions.
    deleteMany: (filter: { _id: { $in: string[] } }) => {
      const ids = filter._id.$in;
      return new Promise<{ deletedCount: number }>((resolve, reject) =>
        deletes.push({ ids, resolve: () => resolve({ deletedCount: ids.length }), reject }),
      );
    },
  };
  const model = {
    db: { name: 'analytics', getClient: () => ({ db: () => ({ collection: () => collection }) }) },
    collection: { collectionName: 'buckets' },
  } as unknown as Model<StoredBucket>;
  return { model, inserted, deletes };
}

const BUCKET = 'exp|A|29000000|x|3';

function touched(previousLastOffset: number, lastOffset: number) {
  const bucket: Bucket = { ...emptyBucket('default', 'exp', 'A', 29_000_000, 'x', 3), lastOffset };
  return [{ bucket, previousLastOffset }];
}

describe('VersionedBucketStore: deleting superseded versions', () => {
  it('runs beside the batches: a write returns before the delete it starts ends, one delete at a time', async () => {
    const { model, inserted, deletes } = heldModel();
    const warnings: unknown[] = [];
    const logger = { warn: (fields: unknown) => warnings.push(fields) } as unknown as Logger;
    const store = new VersionedBucketStore(model, 0, logger);

    expect(await store.write(touched(-1, 10))).toBe(1); // the insert; nothing superseded yet
    // Supersedes ^-1: the insert and a delete, which this write does not wait for.
    expect(await store.write(touched(10, 20))).toBe(2);
    expect(deletes.map((d) => d.ids)).toEqual([[versionId(BUCKET, -1)]]);
    let settled = false;
    const whenSettled = store.settled().then(() => (settled = true));

    // Writes go on while it runs, and start no second delete.
    expect(await store.write(touched(20, 30))).toBe(1);
    expect(inserted).toEqual([versionId(BUCKET, -1), versionId(BUCKET, 10), versionId(BUCKET, 20)]);
    expect(deletes).toHaveLength(1);
    expect(settled).toBe(false);

    // A failed delete is logged, and its versions go with the next one.
    deletes[0].reject(new Error('connection reset'));
    await whenSettled;
    expect(warnings).toEqual([expect.objectContaining({ collection: 'buckets', versions: 1 })]);
    expect(await store.write(touched(30, 40))).toBe(2);
    expect(new Set(deletes[1].ids)).toEqual(
      new Set([versionId(BUCKET, -1), versionId(BUCKET, 10), versionId(BUCKET, 20)]),
    );
    deletes[1].resolve();
    await store.settled();

    // Once it succeeded, nothing is left to delete until a write supersedes another version.
    expect(await store.write([])).toBe(0);
    expect(await store.write(touched(40, 50))).toBe(2);
    expect(deletes[2].ids).toEqual([versionId(BUCKET, 30)]);
    deletes[2].resolve();
    await store.settled();
  });

  it('waits gcIntervalMs between the end of one delete and the start of the next', async () => {
    const { model, deletes } = heldModel();
    const store = new VersionedBucketStore(model, 60_000);
    await store.write(touched(-1, 10));
    await store.write(touched(10, 20)); // the first delete: none ran before
    deletes[0].resolve();
    await store.settled();
    await store.write(touched(20, 30));
    expect(deletes).toHaveLength(1);
  });
});
