/**
 * The bucket version chain against the real MongoDB-wire server: insert-only versions, the
 * compare-and-set by unique version id, readers that keep the newest version, and the deletion of
 * superseded versions.
 */
import { testInfra } from '@llmops/testing';
import type { Model } from 'mongoose';
import { type BatchPlan, emptyPlan } from '../src/domain/batch-planner';
import { type Bucket, emptyBucket } from '../src/domain/bucket';
import type { AggregationRepository } from '../src/persistence/aggregation.repository';
import type { StoredBucket } from '../src/persistence/analytics.schemas';
import { fromStored, latestVersions, WriteConflictError } from '../src/persistence/bucket-store';
import { collectionFor } from '../src/persistence/read-path';
import { openTestPersistence, type TestPersistence } from './support/persistence';

function planOf(...buckets: Array<{ bucket: Bucket; previousLastOffset: number }>): BatchPlan {
  return { ...emptyPlan(), buckets };
}

function bucketAt(lastOffset: number, exposures: number): Bucket {
  return { ...emptyBucket('default', 'exp', 'A', 29_000_000, 'x', 3), lastOffset, exposures };
}

describe('bucket versions (insert-only, compare-and-set by version id)', () => {
  let persistence: TestPersistence;
  let buckets: Model<StoredBucket>;
  let newRepository: () => AggregationRepository;
  let repo: AggregationRepository;

  beforeAll(async () => {
    persistence = await openTestPersistence(testInfra());
    ({ buckets } = persistence);
    // Superseded versions are deleted after every write here (the service batches the deletes);
    // the tests wait for each delete, which runs beside the batches (`settled`).
    newRepository = () => persistence.aggregation(0, 'versioned');
    repo = newRepository();
  });

  afterAll(() => persistence?.drop());

  const stored = () => collectionFor(buckets, 'background').find({}).toArray();

  it('chains versions by unique id, refuses a writer one version behind, and keeps one document', async () => {
    const id = 'exp|A|29000000|x|3';
    const write = async (previousLastOffset: number, lastOffset: number, exposures: number, by = repo) => {
      const commands = await by.write(
        planOf({ bucket: bucketAt(lastOffset, exposures), previousLastOffset }),
      );
      await by.settled();
      return commands;
    };
    // Another instance of the service, with its own knowledge of the versions it wrote.
    const other = newRepository();
    const versions = async () =>
      (await stored())
        .map((d) => [d._id, d.lastOffset, fromStored(d).exposures])
        .sort((a, b) => Number(a[1]) - Number(b[1]));

    expect(await write(-1, 10, 1)).toBe(1); // the insert; nothing superseded yet
    expect(await write(10, 20, 3)).toBe(2); // the insert and the delete of version ^-1
    expect(await versions()).toEqual([[`${id}^10`, 20, 3]]);

    // A writer that still believes the bucket is at offset 10 collides with the version that
    // superseded 10: the compare-and-set.
    await expect(write(10, 15, 2, other)).rejects.toThrow(WriteConflictError);
    expect(await versions()).toEqual([[`${id}^10`, 20, 3]]);

    // Two versions behind, the superseded id is free again and the stale writer's fork is stored,
    // here even with a higher lastOffset than the chain (it parked or skipped what the owner
    // applied). Readers keep the chain: the version with the highest base, not the highest
    // lastOffset. A load queues the fork for deletion.
    await write(20, 30, 5);
    await write(10, 60, 2, other);
    expect(await versions()).toEqual([
      [`${id}^20`, 30, 5],
      [`${id}^10`, 60, 2],
    ]);
    expect((await repo.loadPartition(3)).buckets.get(id)).toMatchObject({ lastOffset: 30, exposures: 5 });
    await write(30, 40, 6);
    expect(await versions()).toEqual([[`${id}^30`, 40, 6]]);

    // The same instance writing below what it knows deletes its own stale version.
    await write(10, 35, 1);
    expect(await versions()).toEqual([[`${id}^30`, 40, 6]]);
  });

  it('readers keep the version with the highest base per bucket, in bucket-id order', () => {
    const doc = (b: string, p: number, lastOffset: number) =>
      ({ _id: `${b}^${p}`, bucketId: b, previousLastOffset: p, lastOffset }) as unknown as StoredBucket;
    const latest = latestVersions([doc('q', -1, 1), doc('p', 2, 5), doc('p', 5, 9), doc('p', 1, 70)]);
    expect(latest.map((d) => [d.bucketId, d.previousLastOffset, d.lastOffset])).toEqual([
      ['p', 5, 9],
      ['q', -1, 1],
    ]);
  });

  it('a bucket stored before versioning (its _id is the bucket id) is read and then superseded', async () => {
    const id = 'exp|B|29000001|g|4';
    const legacy = { ...bucketAt(7, 2), _id: id, arm: 'B', minute: 29_000_001, kind: 'g' as const, part: 4 };
    await collectionFor(buckets, 'background').insertOne({ ...legacy, latency: null });
    const state = await repo.loadPartition(4);
    expect(state.buckets.get(id)).toMatchObject({ _id: id, lastOffset: 7, exposures: 2 });
    await repo.write(planOf({ bucket: { ...legacy, lastOffset: 9, exposures: 3 }, previousLastOffset: 7 }));
    await repo.settled();
    expect(
      (await collectionFor(buckets, 'background').find({ part: 4 }).toArray()).map((d) => [
        d._id,
        d.bucketId,
        d.lastOffset,
      ]),
    ).toEqual([[`${id}^7`, id, 9]]);
  });
});
