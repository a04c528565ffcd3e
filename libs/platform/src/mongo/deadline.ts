/**
 * Deadlines for MongoDB operations. A `Db` handle made here carries the driver's client-side
 * operation timeout (`timeoutMS`, CSOT): one deadline covers server selection, connection checkout
 * and the socket round trip, and the driver also sends it to the server as `maxTimeMS`. A server
 * that ignores `maxTimeMS` or is frozen still cannot hold a request: the driver gives up at the
 * deadline with `MongoOperationTimeoutError`, which the error body maps to 503 `database_unavailable`.
 */
import type { Connection, Model, mongo } from 'mongoose';

/** Default deadline of one request-path operation (`MONGODB_OPERATION_TIMEOUT_MS`). */
export const DEFAULT_MONGODB_OPERATION_TIMEOUT_MS = 1_500;

const operationTimeouts = new WeakMap<Connection, number>();
const requestDbs = new WeakMap<Connection, mongo.Db>();

/** The connection's database with every operation bounded by `timeoutMs`. */
export function deadlineDb(connection: Connection, timeoutMs: number): mongo.Db {
  const name = connection.db?.databaseName ?? connection.name;
  if (!name) throw new Error('MongoDB connection is not open');
  return connection.getClient().db(name, { timeoutMS: timeoutMs });
}

/** Sets the deadline `requestDb` applies on this connection (the platform module does this at boot). */
export function setOperationTimeout(connection: Connection, timeoutMs: number): void {
  operationTimeouts.set(connection, timeoutMs);
  requestDbs.delete(connection);
}

/**
 * The database handle for request paths: every operation through it has the connection's
 * operation deadline (`MONGODB_OPERATION_TIMEOUT_MS`). Long background work (partition loads,
 * large batch writes) keeps using `connection.db`, which has no operation deadline.
 */
export function requestDb(connection: Connection): mongo.Db {
  let db = requestDbs.get(connection);
  if (!db) {
    const timeoutMs = operationTimeouts.get(connection) ?? DEFAULT_MONGODB_OPERATION_TIMEOUT_MS;
    db = deadlineDb(connection, timeoutMs);
    requestDbs.set(connection, db);
  }
  return db;
}

/**
 * The native collection behind `model` on the request-path database: queries through it skip
 * mongoose's document layer and are bounded by the connection's operation deadline. `model.collection`
 * is the same collection without a deadline, for background work.
 */
export function requestCollection<T extends mongo.Document>(model: Model<T>): mongo.Collection<T> {
  return requestDb(model.db).collection<T>(model.collection.collectionName);
}
