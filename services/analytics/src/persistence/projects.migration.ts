/**
 * Documents written before projects existed belong to the `default` project, whose ids are the bare
 * ids (see project-scope.ts), so upgrading adds a field and changes no id. At boot, after the
 * stored-field migration and before the indexes, the consumer and the API:
 * 1. the directory of arms (`arms_seen`) gets an entry for every (experiment, arm, partition) of the
 *    buckets still without a project (before 2, so a crash between the two repeats it);
 * 2. every document without `project` gets `project: 'default'` (one `updateMany` per collection
 *    that matches only those, so running it again changes nothing), and experiments their `key`;
 * 3. the indexes that led with a field other than `project` are dropped (ensureIndexes then creates
 *    the per-project ones).
 */
import { DEFAULT_PROJECT } from '@llmops/contracts';
import { dropIndexes, isDuplicateKey } from '@llmops/platform';
import type { Connection } from 'mongoose';
import type { ArmSeenDoc } from '../domain/partition-state';
import { ARM_SEEN, BUCKET, EXPERIMENT, PENDING, REQUEST, REVISION, SEEN } from './analytics.schemas';
import { collectionFor } from './read-path';

const OLD_INDEXES: Record<string, string[]> = {
  [BUCKET]: ['exp_1_minute_1'],
  [REVISION]: ['feedbackId_1'],
  [PENDING]: ['feedbackId_1_revision_1_receivedAt_1'],
};

const WITHOUT_PROJECT = { project: { $exists: false } };
// A large collection may take longer than a request deadline: none here.
const NO_DEADLINE = { timeoutMS: 0 };

/** Moves every document without a project to `default`; returns how many documents changed. */
export async function migrateToProjects(connection: Connection): Promise<number> {
  const buckets = connection.model(BUCKET).collection;
  const pairs = new Map<string, ArmSeenDoc>();
  for await (const b of buckets.find(WITHOUT_PROJECT, {
    projection: { exp: 1, arm: 1, part: 1 },
    ...NO_DEADLINE,
  })) {
    const doc = { exp: String(b.exp), arm: String(b.arm), part: Number(b.part) };
    const _id = `${doc.exp}|${doc.arm}|${doc.part}`;
    pairs.set(_id, { _id, project: DEFAULT_PROJECT, ...doc });
  }
  if (pairs.size > 0) {
    await collectionFor(connection.model<ArmSeenDoc>(ARM_SEEN), 'background')
      .insertMany([...pairs.values()], { ordered: false, ...NO_DEADLINE })
      .catch((err: unknown) => {
        if (!isDuplicateKey(err)) throw err;
      });
  }

  let changed = 0;
  for (const name of [BUCKET, SEEN, REQUEST, REVISION, PENDING]) {
    const collection = connection.model(name).collection;
    const result = await collection.updateMany(
      WITHOUT_PROJECT,
      { $set: { project: DEFAULT_PROJECT } },
      NO_DEADLINE,
    );
    changed += result.modifiedCount;
  }
  const experiments = connection.model(EXPERIMENT).collection;
  const old = await experiments.find(WITHOUT_PROJECT, { projection: { _id: 1 }, ...NO_DEADLINE }).toArray();
  if (old.length > 0) {
    const result = await experiments.bulkWrite(
      old.map(({ _id }) => ({
        updateOne: { filter: { _id }, update: { $set: { project: DEFAULT_PROJECT, key: String(_id) } } },
      })),
      { ordered: false, ...NO_DEADLINE },
    );
    changed += result.modifiedCount;
  }

  for (const [name, oldIndexes] of Object.entries(OLD_INDEXES)) {
    await dropIndexes(connection.model(name).collection, oldIndexes);
  }
  return changed;
}
