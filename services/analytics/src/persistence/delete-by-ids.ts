import type { mongo } from 'mongoose';

/**
 * Ids per delete command: far under MongoDB's 16 MB command limit and under the 10,000 values up to
 * which the local FerretDB build looks an `$in` up in the `_id` index. Each command is one SQLite
 * write transaction there, and a smaller one lets the batches' inserts in between.
 */
const IDS_PER_COMMAND = 1_000;

/**
 * Deletes the documents with these `_id`s: `{ _id: { $in } }` deletes of at most IDS_PER_COMMAND
 * ids, one after another. Each is a lookup per id in the `_id` index, on MongoDB and on the local
 * FerretDB build (deploy/local/ferretdb/source-patches.json; a stock FerretDB 1.24 on SQLite reads
 * and parses every document of the collection for each such delete).
 */
export async function deleteByIds<T extends { _id: string }>(
  collection: mongo.Collection<T>,
  ids: readonly string[],
): Promise<void> {
  for (let i = 0; i < ids.length; i += IDS_PER_COMMAND) {
    const chunk = ids.slice(i, i + IDS_PER_COMMAND);
    await collection.deleteMany({ _id: { $in: chunk } } as mongo.Filter<T>);
  }
}

/** The commands `deleteByIds` sends for `count` ids. */
export function deleteCommandsFor(count: number): number {
  return Math.ceil(count / IDS_PER_COMMAND);
}
