/**
 * The analytics repositories on a mongoose connection of their own, outside Nest: repository tests
 * and the consumer benchmark drive them directly. Boots like the service does: stored-field
 * migration, then the indexes.
 */
import { ensureIndexes, mongoServerKind } from '@llmops/platform';
import type { TestInfra } from '@llmops/testing';
import { type ConnectOptions, createConnection, type Model, type mongo } from 'mongoose';
import type {
  ArmSeenDoc,
  PendingDoc,
  RequestDoc,
  RevisionDoc,
  SeenDoc,
} from '../../src/domain/partition-state';
import type { PhaseLedgerDoc } from '../../src/domain/phase-rollup';
import { AggregationRepository } from '../../src/persistence/aggregation.repository';
import {
  ANALYTICS_MODELS,
  ARM_SEEN,
  BUCKET,
  DECISION,
  type DecisionDoc,
  EXPERIMENT,
  type ExperimentDoc,
  JOURNAL,
  PENDING,
  PHASE_BUCKET,
  PHASE_LEDGER,
  REQUEST,
  REVISION,
  SEEN,
  type StoredBucket,
  type StoredJournal,
} from '../../src/persistence/analytics.schemas';
import { DecisionsRepository } from '../../src/persistence/decisions.repository';
import { ExperimentsRepository } from '../../src/persistence/experiments.repository';
import { PlainBucketStore } from '../../src/persistence/plain-bucket.store';
import {
  PROMPT_SETTINGS,
  type PromptSettingsDoc,
  PromptSettingsRepository,
  PromptSettingsSchema,
} from '../../src/persistence/prompt-settings.repository';
import { migrateToProjects } from '../../src/persistence/projects.migration';
import { migrateStoredFields } from '../../src/persistence/stored-fields.migration';
import { VersionedBucketStore } from '../../src/persistence/versioned-bucket.store';
import { experimentDoc } from './planner';

export async function openPersistence(
  uri: string,
  dbName: string,
  options: ConnectOptions = {},
  gcIntervalMs = 2_000,
) {
  const connection = await createConnection(uri, { dbName, ...options }).asPromise();
  for (const { name, schema } of ANALYTICS_MODELS) connection.model(name, schema);
  await migrateStoredFields(connection);
  await migrateToProjects(connection);
  for (const { name } of ANALYTICS_MODELS) await ensureIndexes(connection.model(name));
  const model = <T>(name: string): Model<T> => connection.model<T>(name);
  const buckets = model<StoredBucket>(BUCKET);
  const phaseBuckets = model<StoredBucket>(PHASE_BUCKET);
  // The store the service would pick (ANALYTICS_BUCKET_STORE=auto).
  const serverStore = (await mongoServerKind(connection)) === 'mongodb' ? 'plain' : 'versioned';
  const repositories: AggregationRepository[] = [];
  return {
    connection,
    buckets,
    /** Resolves when every repository made here has no delete running beside its batches. */
    settled: () => Promise.all(repositories.map((r) => r.settled())).then(() => undefined),
    aggregation: (intervalMs = gcIntervalMs, store: 'plain' | 'versioned' = serverStore) => {
      const storeOf = (m: Model<StoredBucket>) =>
        store === 'plain' ? new PlainBucketStore(m) : new VersionedBucketStore(m, intervalMs);
      const repository = new AggregationRepository(
        buckets,
        model<StoredJournal>(JOURNAL),
        model<SeenDoc>(SEEN),
        model<RequestDoc>(REQUEST),
        model<RevisionDoc>(REVISION),
        model<PendingDoc>(PENDING),
        model<ArmSeenDoc>(ARM_SEEN),
        phaseBuckets,
        model<PhaseLedgerDoc>(PHASE_LEDGER),
        storeOf(buckets),
        storeOf(phaseBuckets),
      );
      repositories.push(repository);
      return repository;
    },
    experiments: new ExperimentsRepository(model<ExperimentDoc>(EXPERIMENT)),
    decisions: new DecisionsRepository(model<DecisionDoc>(DECISION)),
    promptSettings: new PromptSettingsRepository(
      connection.model<PromptSettingsDoc>(PROMPT_SETTINGS, PromptSettingsSchema),
    ),
  };
}

export type TestPersistence = Awaited<ReturnType<typeof openTestPersistence>>;

/** `openPersistence` on the suite's own database (also as the native `db`); `drop` deletes it and closes. */
export async function openTestPersistence(infra: TestInfra) {
  const persistence = await openPersistence(infra.mongoBaseUri, infra.dbName);
  const { connection } = persistence;
  return {
    ...persistence,
    db: connection.getClient().db(infra.dbName),
    async drop(): Promise<void> {
      await persistence.settled();
      await connection.dropDatabase();
      await connection.close();
    },
  };
}

export type LegacyDatabase = Awaited<ReturnType<typeof openLegacyDatabase>>;

/**
 * The suite's database on a connection without models or migrations, to store documents as earlier
 * builds did before the service boots on them; `drop` deletes it and closes.
 */
export async function openLegacyDatabase(infra: TestInfra) {
  const connection = await createConnection(infra.mongoBaseUri, { dbName: infra.dbName }).asPromise();
  const db = connection.getClient().db(infra.dbName);
  return {
    connection,
    db,
    /** Experiment `key` as builds before projects stored it (`_id` is the key): arms `c` and `t`, running. */
    insertExperiment: (key: string, updatedAt: Date) => {
      const {
        project: _project,
        key: _key,
        ...legacy
      } = experimentDoc({
        control: 'c',
        arms: [
          { name: 'c', weight: 1 },
          { name: 't', weight: 1 },
        ],
        updatedAt: updatedAt.toISOString(),
      });
      return db.collection('experiments').insertOne({ ...legacy, _id: key as unknown as mongo.ObjectId });
    },
    async drop(): Promise<void> {
      await db.dropDatabase();
      await connection.close();
    },
  };
}
