/**
 * Documents stored before projects existed (no `project` field) belong to `default` after boot:
 * every collection gets the field once, experiments their `key`, the arms directory is filled from
 * the old buckets, the indexes that did not lead with `project` are replaced, and results, parked
 * feedback and uncounted arms read the old data under the default key (and not under another
 * project's key).
 */
import { expectEventually, issueTestKey, testInfra } from '@llmops/testing';
import type { mongo } from 'mongoose';
import { emptyValues } from '../src/domain/bucket';
import { ANALYTICS_MODELS } from '../src/persistence/analytics.schemas';
import { migrateToProjects } from '../src/persistence/projects.migration';
import type { ExperimentResults } from '../src/results/dto/results.response';
import type { UncountedArmsPage } from '../src/results/list-uncounted-arms.usecase';
import { inject, startApp, type TestApp } from './support/app';
import { type LegacyDatabase, openLegacyDatabase } from './support/persistence';

const infra = testInfra();
const exp = 'before-projects';
const at = new Date(Date.now() - 120_000);
const minute = Math.floor(at.getTime() / 60_000);
const values = (rating: number) => ({ rating, thumbs: null, scores: {}, comment: false, correction: false });
const bucket = (arm: string, kind: string, part: number, lastOffset: number) => {
  const id = `${exp}|${arm}|${minute}|${kind}|${part}`;
  const base = { bucketId: id, previousLastOffset: -1, exp, arm, minute, kind, part, lastOffset };
  return { _id: `${id}^-1`, ...base, latency: null };
};
const COLLECTIONS = ['buckets', 'exposures_seen', 'requests', 'feedback_revisions', 'pending_feedback'];

let app: TestApp;
let legacy: LegacyDatabase;
let db: mongo.Db;

beforeAll(async () => {
  legacy = await openLegacyDatabase(infra);
  ({ db } = legacy);
  await legacy.insertExperiment(exp, at);
  await db.collection('buckets').insertMany([
    { ...bucket('c', 'x', 0, 5), ...emptyValues(), exposures: 3 },
    { ...bucket('t', 'f', 1, 0), ...emptyValues(), rating: { n: 1, sum: 4, sumSq: 16 } },
    // An arm the experiment does not have: stored before, never counted now.
    { ...bucket('ghost', 'f', 2, 0), ...emptyValues(), rating: { n: 2, sum: 10, sumSq: 50 } },
  ] as never[]);
  await db.collection('exposures_seen').insertOne({
    _id: `${exp}|c|u1` as never,
    part: 0,
    exp,
    arm: 'c',
    minute,
    createdBy: 'x:0:5',
  });
  await db.collection('requests').insertOne({
    _id: 'old-r1' as never,
    part: 1,
    exp,
    arm: 't',
    minute,
    createdBy: 'g:1:0',
  });
  await db.collection('feedback_revisions').insertOne({
    _id: 'old-f1|1' as never,
    part: 1,
    feedbackId: 'old-f1',
    revision: 1,
    values: values(4),
    source: 'f:1:0',
    contributor: 'f:1:0',
    exp,
    arm: 't',
    minute,
  });
  await db.collection('pending_feedback').insertOne({
    _id: 'f:1:1' as never,
    part: 1,
    feedbackId: 'old-f2',
    revision: 1,
    requestId: 'old-r2',
    values: values(1),
    minute,
    receivedAt: at.toISOString(),
    offset: 1,
  });
  await db.collection('buckets').createIndex({ exp: 1, minute: 1 });
  await db.collection('feedback_revisions').createIndex({ feedbackId: 1 });
  await db.collection('pending_feedback').createIndex({ feedbackId: 1, revision: 1, receivedAt: 1 });
  app = await startApp(infra, `${infra.id}.analytics`);
}, 120_000);

afterAll(async () => {
  await app?.close();
  await legacy?.drop();
}, 60_000);

it("moves every older document to project 'default' at boot, once, and swaps the indexes", async () => {
  for (const name of COLLECTIONS) {
    const without = await db.collection(name).countDocuments({ project: { $ne: 'default' } });
    expect({ name, without }).toEqual({ name, without: 0 });
  }
  expect(await db.collection('experiments').findOne({})).toMatchObject({
    _id: exp,
    project: 'default',
    key: exp,
  });
  const arms = await db.collection('arms_seen').find({}).sort({ _id: 1 }).toArray();
  expect(arms.map((a) => [a._id, a.project, a.part])).toEqual([
    [`${exp}|c|0`, 'default', 0],
    [`${exp}|ghost|2`, 'default', 2],
    [`${exp}|t|1`, 'default', 1],
  ]);
  const indexes = async (name: string) =>
    (await db.collection(name).listIndexes().toArray()).map((i) => String(i.name));
  expect(await indexes('buckets')).toEqual(expect.arrayContaining(['project_1_exp_1_res_1_minute_1']));
  expect(await indexes('buckets')).not.toContain('project_1_exp_1_minute_1');
  expect(await indexes('buckets')).not.toContain('exp_1_minute_1');
  expect(await indexes('feedback_revisions')).not.toContain('feedbackId_1');
  expect(await indexes('pending_feedback')).not.toContain('feedbackId_1_revision_1_receivedAt_1');
  // Idempotent: the next boot finds nothing to move.
  for (const { name, schema } of ANALYTICS_MODELS) legacy.connection.model(name, schema);
  expect(await migrateToProjects(legacy.connection)).toBe(0);
});

it('reads the migrated data as project default only', async () => {
  const res = (await inject(app, `/v1/experiments/${exp}/results`)).body as ExperimentResults;
  expect(res.arms.map((a) => [a.arm, a.exposures, a.rating.n])).toEqual([
    ['c', 3, 0],
    ['t', 0, 1],
  ]);
  const parked = (await inject(app, '/v1/feedback/unattributed')).body as { items: unknown[] };
  expect(parked.items).toEqual([
    expect.objectContaining({ feedbackId: 'old-f2', reason: 'generation_not_seen' }),
  ]);
  const uncounted = (await inject(app, '/v1/arms/uncounted')).body as UncountedArmsPage;
  expect(uncounted.items).toEqual([
    expect.objectContaining({ experiment: exp, arm: 'ghost', reason: 'arm_not_in_experiment', ratings: 2 }),
  ]);

  const other = await issueTestKey(infra, { project: 'elsewhere', scopes: ['results:read'] });
  await expectEventually(async () =>
    expect((await inject(app, `/v1/experiments/${exp}/results`, other.header)).status).toBe(404),
  );
  expect((await inject(app, '/v1/feedback/unattributed', other.header)).body).toEqual({
    items: [],
    nextCursor: null,
  });
});
