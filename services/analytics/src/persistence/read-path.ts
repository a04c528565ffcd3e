import { requestDb } from '@llmops/platform';
import type { Model, mongo } from 'mongoose';

/**
 * The deadline of a read: `request` for HTTP paths (MONGODB_OPERATION_TIMEOUT_MS: a frozen database
 * answers 503 instead of holding the request), `background` for the consumer and the metrics
 * refresher, whose reads may take longer.
 */
export type ReadPath = 'request' | 'background';

/** The native collection behind `model`, with the deadline of `path`. */
export function collectionFor<T extends mongo.Document>(
  model: Model<T>,
  path: ReadPath,
): mongo.Collection<T> {
  const db = path === 'request' ? requestDb(model.db) : model.db.getClient().db(model.db.name);
  return db.collection<T>(model.collection.collectionName);
}
