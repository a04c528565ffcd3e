import { requestDb } from '@llmops/platform';
import type { Connection, mongo } from 'mongoose';

/**
 * Creates the indexes that do not exist yet, one per command. FerretDB 1.24 drops the connection
 * when one `createIndexes` command names several indexes that already exist, which every restart
 * of the service would do.
 */
export async function ensureIndexes<T extends mongo.Document>(
  collection: mongo.Collection<T>,
  indexes: mongo.IndexDescription[],
): Promise<void> {
  const existing = new Set(
    await collection
      .listIndexes()
      .toArray()
      .then((list) => list.map((i) => String(i.name)))
      .catch(() => [] as string[]), // the collection does not exist yet
  );
  for (const index of indexes) {
    if (index.name && existing.has(index.name)) continue;
    // Boot-time work, not a request: no operation deadline (timeoutMS 0), since building an index on
    // a large collection can take far longer than MONGODB_OPERATION_TIMEOUT_MS.
    await collection.createIndexes([index], { timeoutMS: 0 });
  }
}

/**
 * The connection's database, every operation bounded by MONGODB_OPERATION_TIMEOUT_MS; PlatformModule
 * only hands out connections that are open.
 */
export function db(connection: Connection): mongo.Db {
  if (!connection.db) throw new Error('MongoDB connection is not open');
  return requestDb(connection);
}
