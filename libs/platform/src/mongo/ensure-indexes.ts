import type { mongo, Schema } from 'mongoose';

/** Any model: only its schema's index declarations and its collection are used. */
interface IndexedModel {
  schema: Pick<Schema, 'indexes'>;
  collection: mongo.Collection<mongo.Document>;
}

/** The indexes declared on a model's schema (`schema.index(...)` and `unique`/`index` paths). */
function schemaIndexes(model: IndexedModel): mongo.IndexDescription[] {
  // `background` is a mongoose default the server has ignored since 4.2.
  return model.schema
    .indexes()
    .map(([key, { background: _background, ...options }]) => ({ ...options, key }) as mongo.IndexDescription);
}

/** The name the server gives an index created without one (`name_1_hash_1`). */
const indexName = (index: mongo.IndexDescription): string =>
  index.name ??
  Object.entries(index.key)
    .map(([field, dir]) => `${field}_${String(dir)}`)
    .join('_');

/**
 * Creates the indexes that do not exist yet, one per command, and resolves when they all exist:
 * services await it at boot, since unique indexes are what make their writes race-safe. A model's
 * indexes are those of its schema; a collection's are `indexes`. Index creation has no operation
 * deadline (timeoutMS 0): building an index on a large collection can take far longer than
 * MONGODB_OPERATION_TIMEOUT_MS. One per command because FerretDB 1.24 drops the connection when one
 * `createIndexes` command names several indexes that already exist.
 */
export async function ensureIndexes(model: IndexedModel): Promise<void>;
export async function ensureIndexes<T extends mongo.Document>(
  collection: mongo.Collection<T>,
  indexes: mongo.IndexDescription[],
): Promise<void>;
export async function ensureIndexes(
  target: IndexedModel | mongo.Collection<mongo.Document>,
  indexes?: mongo.IndexDescription[],
): Promise<void> {
  const isModel = 'schema' in target;
  const collection = isModel ? target.collection : target;
  const wanted = isModel ? schemaIndexes(target) : (indexes ?? []);
  const existing = new Set(await indexNames(collection));
  for (const index of wanted) {
    const name = indexName(index);
    if (existing.has(name)) continue;
    await collection.createIndexes([{ ...index, name }], { timeoutMS: 0 });
  }
}

/**
 * The names of a collection's indexes; none when the collection does not exist yet
 * (NamespaceNotFound). Anything else (a timeout, a dropped connection) is thrown, so a boot fails
 * rather than acting on a wrong list. No operation deadline, like index creation.
 */
async function indexNames<T extends mongo.Document>(collection: mongo.Collection<T>): Promise<string[]> {
  return collection
    .listIndexes({ timeoutMS: 0 })
    .toArray()
    .then((list) => list.map((i) => String(i.name)))
    .catch((err: unknown) => {
      if ((err as { code?: unknown }).code === 26) return [];
      throw err;
    });
}

/**
 * Drops the named indexes a collection has (an upgrade replacing indexes); names it does not have
 * are skipped, so a second boot, or a second replica, changes nothing.
 */
export async function dropIndexes<T extends mongo.Document>(
  collection: mongo.Collection<T>,
  names: readonly string[],
): Promise<void> {
  const existing = await indexNames(collection);
  for (const name of names) {
    if (existing.includes(name)) await collection.dropIndex(name, { timeoutMS: 0 });
  }
}
