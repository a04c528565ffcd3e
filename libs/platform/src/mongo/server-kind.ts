import type { Connection } from 'mongoose';

/**
 * Which MongoDB-wire server the connection talks to. Production runs MongoDB; the local default
 * is FerretDB 1.24, which does not make a conditional update atomic (it reads, then writes by
 * `_id`) and scans a collection for filters other than `{ _id }`. Repositories whose design
 * depends on those guarantees pick their implementation with this, once, at boot.
 */
export type MongoServerKind = 'mongodb' | 'ferretdb';

export async function mongoServerKind(connection: Connection): Promise<MongoServerKind> {
  const info = await connection.db!.admin().command({ buildInfo: 1 });
  return 'ferretdbVersion' in info ? 'ferretdb' : 'mongodb';
}
