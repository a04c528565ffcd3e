/**
 * Documents stored by builds before 0.2.0 (one-letter fields) are renamed at boot and then read as
 * if written today: the results count the old buckets, the unattributed list shows old parked
 * feedback, a redelivered old message adds nothing, and an edit moves the old revision's values.
 */
import { expectEventually, testInfra } from '@llmops/testing';
import type { mongo } from 'mongoose';
import { emptyValues } from '../src/domain/bucket';
import { ANALYTICS_MODELS } from '../src/persistence/analytics.schemas';
import { migrateStoredFields } from '../src/persistence/stored-fields.migration';
import type { ExperimentResults } from '../src/results/dto/results.response';
import { inject, startApp, type TestApp } from './support/app';
import { type LegacyDatabase, openLegacyDatabase } from './support/persistence';
import { connectProducer, feedbackEvent, topicsFor } from './support/scenario';

const infra = testInfra();
const exp = 'migrated';
const at = new Date(Date.now() - 120_000);
const minute = Math.floor(at.getTime() / 60_000);
const values = (rating: number) => ({ rating, thumbs: null, scores: {}, comment: false, correction: false });
const bucket = (arm: string, kind: string, lastOffset: number) => {
  const id = `${exp}|${arm}|${minute}|${kind}|0`;
  return { _id: `${id}^-1`, b: id, p: -1, exp, arm, minute, kind, part: 0, lastOffset, latency: null };
};

let app: TestApp;
let legacy: LegacyDatabase;
let db: mongo.Db;

beforeAll(async () => {
  legacy = await openLegacyDatabase(infra);
  ({ db } = legacy);
  await legacy.insertExperiment(exp, at);
  await db.collection('buckets').insertMany([
    { ...bucket('c', 'x', 5), ...emptyValues(), exposures: 3 },
    { ...bucket('t', 'f', 0), ...emptyValues(), rating: { n: 1, sum: 4, sumSq: 16 } },
  ] as never[]);
  await db.collection('exposures_seen').insertOne({
    _id: `${exp}|c|u1` as never,
    part: 0,
    exp,
    arm: 'c',
    minute,
    by: 'x:0:5',
  });
  await db.collection('feedback_revisions').insertOne({
    _id: 'mig-f1|1' as never,
    part: 0,
    fid: 'mig-f1',
    r: 1,
    vals: values(4),
    source: 'f:0:0',
    contributor: 'f:0:0',
    exp,
    arm: 't',
    minute,
  });
  await db.collection('pending_feedback').insertOne({
    _id: 'f:0:1' as never,
    part: 0,
    fid: 'mig-f2',
    r: 1,
    requestId: 'mig-r2',
    vals: values(1),
    minute,
    receivedAt: at.toISOString(),
    offset: 1,
  });
  await db.collection('pending_feedback').createIndex({ fid: 1, r: 1, receivedAt: 1 });
  await db.collection('feedback_revisions').createIndex({ fid: 1 });
  app = await startApp(infra, `${infra.id}.analytics`);
}, 120_000);

afterAll(async () => {
  await app?.close();
  await legacy?.drop();
}, 60_000);

const results = async () => (await inject(app, `/v1/experiments/${exp}/results`)).body as ExperimentResults;
const arm = (r: ExperimentResults, name: string) => r.arms.find((a) => a.arm === name)!;

it('renames the one-letter fields at boot, once, and drops the indexes on them', async () => {
  const old = ['b', 'p', 'by', 'fid', 'r', 'vals'].map((f) => ({ [f]: { $exists: true } }));
  for (const name of ['buckets', 'exposures_seen', 'feedback_revisions', 'pending_feedback']) {
    expect({ name, old: await db.collection(name).countDocuments({ $or: old }) }).toEqual({
      name,
      old: 0,
    });
  }
  expect(await db.collection('buckets').findOne({ _id: `${exp}|c|${minute}|x|0^-1` as never })).toMatchObject(
    {
      bucketId: `${exp}|c|${minute}|x|0`,
      previousLastOffset: -1,
    },
  );
  expect(await db.collection('exposures_seen').findOne({})).toMatchObject({ createdBy: 'x:0:5' });
  expect(await db.collection('feedback_revisions').findOne({})).toMatchObject({
    feedbackId: 'mig-f1',
    revision: 1,
    values: values(4),
  });
  const indexes = async (name: string) =>
    (await db.collection(name).listIndexes().toArray()).map((i) => String(i.name));
  expect(await indexes('pending_feedback')).toEqual(
    // On the renamed fields (led by `project` since projects: see projects-migration.int-spec.ts).
    expect.arrayContaining(['project_1_feedbackId_1_revision_1_receivedAt_1']),
  );
  expect(await indexes('pending_feedback')).not.toContain('fid_1_r_1_receivedAt_1');
  expect(await indexes('feedback_revisions')).not.toContain('fid_1');
  // Idempotent: the next boot finds nothing to rename.
  for (const { name, schema } of ANALYTICS_MODELS) legacy.connection.model(name, schema);
  expect(await migrateStoredFields(legacy.connection)).toBe(0);
});

it('reads migrated documents: results, unattributed feedback, a redelivery and an edit', async () => {
  const before = await results();
  expect(arm(before, 'c').exposures).toBe(3);
  expect(arm(before, 't').rating).toMatchObject({ n: 1, mean: 4 });
  const parked = (await inject(app, '/v1/feedback/unattributed')).body as { items: unknown[] };
  expect(parked.items).toEqual([
    expect.objectContaining({ feedbackId: 'mig-f2', revision: 1, reason: 'generation_not_seen' }),
  ]);

  // Offset 0 of feedback partition 0 is the message the old revision names (f:0:0): a redelivery,
  // which adds nothing. Offset 1 is an edit: its delta is taken from the migrated values (4 -> 2).
  const { producer } = await connectProducer(infra.kafkaBrokers);
  try {
    const feedback = (revision: number, rating: number) => {
      const e = feedbackEvent({
        feedbackId: 'mig-f1',
        requestId: 'mig-r1',
        experiment: exp,
        arm: 't',
        rating,
        revision,
        edit: revision > 1 ? { previousRevision: revision - 1 } : null,
        at,
      });
      return { key: e.key, value: e.value, partition: 0 };
    };
    await producer.send({
      topic: topicsFor(infra.topicPrefix).f,
      acks: -1,
      messages: [feedback(1, 4), feedback(2, 2)],
    });
  } finally {
    await producer.disconnect();
  }
  await expectEventually(
    async () => expect(arm(await results(), 't').rating).toMatchObject({ n: 1, mean: 2 }),
    { timeoutMs: 30_000, intervalMs: 250 },
  );
  expect(arm(await results(), 'c').exposures).toBe(3);
}, 60_000);
