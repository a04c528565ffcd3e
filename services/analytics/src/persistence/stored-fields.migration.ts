/**
 * Builds before 0.2.0 stored one-letter field names. At boot, before the consumer starts and the
 * API listens, every document still carrying one is renamed with `$rename` (one `updateMany` per
 * collection that matches only old-shape documents, so running it again changes nothing), and the
 * indexes on the old names are dropped (ensureIndexes then creates the new ones).
 */
import { dropIndexes } from '@llmops/platform';
import type { Connection } from 'mongoose';
import { BUCKET, PENDING, REQUEST, REVISION, SEEN } from './analytics.schemas';

const RENAMES: Array<{ model: string; fields: Record<string, string>; oldIndexes: string[] }> = [
  // The results index before roll-ups (its queries now name the resolution: project_1_exp_1_res_1_minute_1).
  {
    model: BUCKET,
    fields: { b: 'bucketId', p: 'previousLastOffset' },
    oldIndexes: ['project_1_exp_1_minute_1'],
  },
  { model: SEEN, fields: { by: 'createdBy' }, oldIndexes: [] },
  { model: REQUEST, fields: { by: 'createdBy' }, oldIndexes: [] },
  { model: REVISION, fields: { fid: 'feedbackId', r: 'revision', vals: 'values' }, oldIndexes: ['fid_1'] },
  {
    model: PENDING,
    fields: { fid: 'feedbackId', r: 'revision', vals: 'values' },
    oldIndexes: ['fid_1_r_1_receivedAt_1'],
  },
];

/** Renames the old fields of every analytics collection; returns how many documents changed. */
export async function migrateStoredFields(connection: Connection): Promise<number> {
  let renamed = 0;
  for (const { model, fields, oldIndexes } of RENAMES) {
    const collection = connection.model(model).collection;
    const oldShape = { $or: Object.keys(fields).map((field) => ({ [field]: { $exists: true } })) };
    // A large collection may take longer than a request deadline: none here.
    const result = await collection.updateMany(oldShape, { $rename: fields }, { timeoutMS: 0 });
    renamed += result.modifiedCount;
    await dropIndexes(collection, oldIndexes);
  }
  return renamed;
}
