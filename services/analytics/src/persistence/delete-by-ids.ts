import type { mongo } from 'mongoose';

/**
 * Deletes the documents with these `_id`s: one unordered command of one `{ _id }` statement each,
 * so that every statement is a lookup in the `_id` index, on MongoDB and on the local FerretDB build
 * (whose SQLite backend uses that index for an `_id` equality only: a `{ _id: { $in } }` delete
 * reads and parses every document of the collection there).
 */
export async function deleteByIds<T extends { _id: string }>(
  collection: mongo.Collection<T>,
  ids: readonly string[],
): Promise<void> {
  if (ids.length === 0) return;
  await collection.bulkWrite(
    ids.map((_id) => ({ deleteOne: { filter: { _id } as mongo.Filter<T> } })),
    { ordered: false },
  );
}
