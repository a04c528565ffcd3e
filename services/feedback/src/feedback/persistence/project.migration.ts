/**
 * Claims written before projects have no `project` field; they belong to `default`, whose keys are
 * the old ones (revisionKey), so they are read correctly without it. At boot, before the service
 * takes requests, one `updateMany` sets `project: 'default'` on them, and a marker document in
 * `feedback_migrations` records that it ran: later boots read the marker by `_id` instead of
 * scanning `feedback_revisions` again (FerretDB scans the whole collection for any filter but
 * `_id`). A claim that a replica of an older version writes during a rolling upgrade, after the
 * marker, stays without the field, which means the same thing. Pages need nothing: a claim line of
 * five fields is a claim of `default`. There is no index to swap: `_id` is the only one.
 */
import { DEFAULT_PROJECT } from '@llmops/contracts';
import { isDuplicateKey } from '@llmops/platform';
import type { Connection } from 'mongoose';
import { FEEDBACK_REVISION_MODEL } from './feedback-revision.schema';

export const MIGRATIONS_COLLECTION = 'feedback_migrations';
const PROJECT_FIELD = 'revisions-project-field';

/** Runs the migration unless its marker exists; returns how many claims it changed. */
export async function migrateRevisionsToProjects(connection: Connection): Promise<number> {
  const migrations = connection.collection<{ _id: string; appliedAt: string; changed: number }>(
    MIGRATIONS_COLLECTION,
  );
  // A large collection may take longer than a request deadline: none here.
  if (await migrations.findOne({ _id: PROJECT_FIELD }, { timeoutMS: 0 })) return 0;
  const result = await connection.model(FEEDBACK_REVISION_MODEL).collection.updateMany(
    // A packed claim has no project field either: its key says its project.
    { project: { $exists: false }, c: { $exists: false } },
    { $set: { project: DEFAULT_PROJECT } },
    { timeoutMS: 0 },
  );
  try {
    await migrations.insertOne(
      { _id: PROJECT_FIELD, appliedAt: new Date().toISOString(), changed: result.modifiedCount },
      { timeoutMS: 0 },
    );
  } catch (err) {
    if (!isDuplicateKey(err)) throw err; // another replica booting at the same time recorded it
  }
  return result.modifiedCount;
}
