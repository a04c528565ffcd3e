/**
 * The bucket store for FerretDB, where an update or delete whose filter is more than an `_id` scans
 * the collection and a conditional update is not atomic: buckets are insert-only VERSIONS. A new
 * state is a new document whose `_id` names the version it supersedes, `${bucketId}^${base}` (`base`
 * = that version's lastOffset, stored as `previousLastOffset`; -1 for a first version), so two
 * writers extending the same version collide on the unique `_id` (E11000 -> WriteConflictError, the
 * batch is retried on a fresh load). Superseded versions are deleted in bulk by `_id`, at most once
 * per `gcIntervalMs`; until then, and after a crash, readers skip them and a load queues them for
 * deletion. The bulk delete runs beside the batches, one at a time, and no batch waits for it.
 *
 * The current version is the one with the highest base, not the highest lastOffset: bases strictly
 * increase along the chain. A deleted version's id is free again, so a zombie writer two versions
 * behind can store a fork on it; its base is lower than the chain's, so readers ignore it and the
 * next load deletes it. A zombie that kept winning the journal-link races for several batches
 * before noticing the rebalance could extend its fork past the chain (see the README's limitations).
 */
import { GroupedInserts, isDuplicateKey } from '@llmops/platform';
import type { Model } from 'mongoose';
import type { Logger } from 'pino';
import type { TouchedBucket } from '../domain/batch-planner';
import type { StoredBucket } from './analytics.schemas';
import {
  baseOf,
  bucketOf,
  type BucketStore,
  latestVersions,
  toStored,
  versionId,
  WriteConflictError,
} from './bucket-store';
import { deleteByIds, deleteCommandsFor } from './delete-by-ids';
import { collectionFor } from './read-path';

interface VersionRef {
  id: string;
  base: number;
  lastOffset: number;
}

function refOf(doc: StoredBucket): VersionRef {
  return { id: doc._id, base: baseOf(doc), lastOffset: doc.lastOffset };
}

export class VersionedBucketStore implements BucketStore {
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
  /** The bulk delete in flight, if any. */
  private collecting?: Promise<void>;

  /** The versions of the batches handled at once go out together (see GroupedInserts). */
  private readonly inserts: GroupedInserts<StoredBucket>;

  constructor(
    private readonly buckets: Model<StoredBucket>,
    private readonly gcIntervalMs: number,
    private readonly logger?: Logger,
  ) {
    this.inserts = new GroupedInserts(() => collectionFor(buckets, 'background'));
  }

  async loaded(docs: readonly StoredBucket[]): Promise<void> {
    const latest = latestVersions(docs);
    for (const doc of latest) this.versions.set(bucketOf(doc), refOf(doc));
    if (latest.length < docs.length) {
      const kept = new Set(latest.map((d) => d._id));
      for (const doc of docs) if (!kept.has(doc._id)) this.superseded.add(doc._id);
    }
  }

  async write(touched: readonly TouchedBucket[]): Promise<number> {
    let commands = 0;
    if (touched.length > 0) {
      // New versions, inserted only: a taken version id means another writer got there first.
      commands += await this.inserts
        .insert(touched.map((t) => toStored(t.bucket, t.previousLastOffset)))
        .catch((err: unknown) => {
          if (isDuplicateKey(err)) throw new WriteConflictError('buckets: a version already exists');
          throw err;
        });
      for (const t of touched) {
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
    if (!this.collecting && this.superseded.size > 0 && Date.now() - this.lastGcAt >= this.gcIntervalMs) {
      commands += deleteCommandsFor(this.superseded.size);
      // Cleared once it has ended, even if it ended before this assignment.
      const collecting = this.collect([...this.superseded]).finally(() => {
        if (this.collecting === collecting) this.collecting = undefined;
      });
      this.collecting = collecting;
    }
    return commands;
  }

  /** Resolves when the bulk delete in flight, if any, has ended (shutdown, tests). */
  async settled(): Promise<void> {
    await this.collecting;
  }

  private async collect(ids: string[]): Promise<void> {
    for (const id of ids) this.superseded.delete(id);
    try {
      // An index lookup per id (see deleteByIds).
      await deleteByIds(collectionFor(this.buckets, 'background'), ids);
    } catch (err) {
      // The next bulk delete takes them; readers skip superseded versions meanwhile.
      for (const id of ids) this.superseded.add(id);
      this.logger?.warn(
        { err, collection: this.buckets.collection.collectionName, versions: ids.length },
        'deleting superseded bucket versions failed; retried with the next bulk delete',
      );
    } finally {
      this.lastGcAt = Date.now();
    }
  }
}
