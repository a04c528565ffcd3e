/**
 * Documents written before projects existed belong to project `default`. Each repository runs this
 * at boot, before it ensures its indexes: it gives every document without `project` the default one
 * (and renames fields of its own in the same per-document atomic update), then drops the unique
 * indexes that were per name, which the per-project ones replace. Idempotent: an adopted document
 * no longer matches, and an index already dropped is skipped.
 */
import { DEFAULT_PROJECT } from '@llmops/contracts';
import { dropIndexes } from '@llmops/platform';
import type { mongo } from 'mongoose';

export async function adoptIntoDefaultProject(
  collection: mongo.Collection<mongo.Document>,
  obsoleteIndexes: readonly string[],
  rename?: Record<string, string>,
): Promise<void> {
  // No operation deadline: a large collection takes as long as it takes, and the service waits.
  await collection.updateMany(
    { project: { $exists: false } },
    { $set: { project: DEFAULT_PROJECT }, ...(rename ? { $rename: rename } : {}) },
    { timeoutMS: 0 },
  );
  await dropIndexes(collection, obsoleteIndexes);
}
