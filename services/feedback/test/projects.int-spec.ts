/**
 * Projects and keys at the ingestion edge, on real Kafka and MongoDB: items are accepted only for
 * experiments of the key's project (another project's experiment answers exactly like a missing
 * one), every event carries the key's project, the same feedbackId in two projects is two items,
 * claims written before projects belong to `default`, and the ingestion routes need a valid key
 * with the `ingest` scope.
 */
import { randomUUID } from 'node:crypto';
import { parseEvent, TOPICS, topicName } from '@llmops/contracts';
import { expectEventually, type IssuedTestKey, issueTestKey, testInfra } from '@llmops/testing';
import { KeyDirectory, requestCollection } from '@llmops/platform';
import { getModelToken } from '@nestjs/mongoose';
import { type Model, mongo as driver } from 'mongoose';
import { buildSubmitFeedbackRequestSchema } from '../src/feedback/dto/submit-feedback.request';
import { feedbackContentHash } from '../src/feedback/feedback-event';
import {
  FEEDBACK_REVISION_MODEL,
  type FeedbackRevisionDocument,
  type StoredRevisionDocument,
  storedRevision,
} from '../src/feedback/persistence/feedback-revision.schema';
import { ExperimentDirectory } from '../src/experiments/experiment-directory';
import { publishExperiments } from './support/experiments';
import { type FeedbackTestApp, readTopic, startFeedbackApp, type TopicRecord } from './support/feedback-app';

const infra = testInfra();
const env = {
  KAFKA_BROKERS: infra.kafkaBrokers,
  MONGODB_URI: infra.mongoUri,
  MONGODB_DB: infra.dbName,
  KAFKA_TOPIC_PREFIX: infra.topicPrefix,
  KAFKA_PRODUCER_LINGER_MS: '2',
};
const generationsTopic = topicName(TOPICS.generations, infra.topicPrefix);
const feedbackTopic = topicName(TOPICS.feedback, infra.topicPrefix);

/** A claim of the content of `OLD_ITEM`, as a version without projects stored it. */
const OLD_ITEM = { feedbackId: 'fb-before-projects', requestId: 'r-old', rating: 3, source: 'user' } as const;

let t: FeedbackTestApp;
let keyA: IssuedTestKey;
let keyB: IssuedTestKey;

beforeAll(async () => {
  const mongo = new driver.MongoClient(infra.mongoUri);
  try {
    const req = buildSubmitFeedbackRequestSchema({ min: 1, max: 5 }).parse(OLD_ITEM);
    const at = '2026-01-01T00:00:00.000Z';
    await mongo
      .db(infra.dbName)
      .collection<FeedbackRevisionDocument>('feedback_revisions')
      .insertOne({
        _id: `${OLD_ITEM.feedbackId}#1`,
        feedbackId: OLD_ITEM.feedbackId,
        revision: 1,
        requestId: OLD_ITEM.requestId,
        contentHash: feedbackContentHash(req, { min: 1, max: 5 }),
        previousRevision: null,
        receivedAt: at,
        timestamp: at,
      });
  } finally {
    await mongo.close();
  }
  // Project team-a has `summarizer`, team-b has `rival`; both have an experiment named `shared`.
  t = await startFeedbackApp(env, {
    experiments: [
      { key: 'summarizer', project: 'team-a' },
      { key: 'shared', project: 'team-a' },
      { key: 'rival', project: 'team-b' },
      { key: 'shared', project: 'team-b' },
    ],
  });
  [keyA, keyB] = await Promise.all([
    issueTestKey(infra, { project: 'team-a', scopes: ['ingest'] }),
    issueTestKey(infra, { project: 'team-b', scopes: ['ingest'] }),
  ]);
  await Promise.all([keyA, keyB].map((k) => t.app.get(KeyDirectory).waitFor(k.keyId)));
});

afterAll(async () => {
  await t?.close();
});

type ErrorBody = { error: { code: string; message: string; details?: Record<string, unknown> } };

const generation = (experiment: string) => ({
  requestId: randomUUID(),
  experiment,
  arm: 'B',
  model: 'gpt-4o-mini',
  output: 'A summary.',
  latencyMs: 800,
});
const feedback = (experiment: string, extra: Record<string, unknown> = {}) => ({
  requestId: randomUUID(),
  experiment,
  arm: 'B',
  rating: 5,
  source: 'user',
  ...extra,
});

/** The records of `topic` whose event data has `requestId` in `ids` (waits for `expected` of them). */
async function recordsOf(
  topic: string,
  ids: readonly string[],
  expected = ids.length,
): Promise<TopicRecord[]> {
  const mine = (rs: TopicRecord[]) =>
    rs.filter((r) => ids.includes((parseEvent(r.value).data as { requestId: string }).requestId));
  return mine(await readTopic(infra.kafkaBrokers, topic, (rs) => mine(rs).length >= expected));
}

describe("ingestion accepts items only for experiments of the key's project", () => {
  it("another project's key gets 404 experiment_not_found for team-a's experiment; team-a's key gets 202", async () => {
    for (const [url, item] of [
      ['/v1/generations', generation('summarizer')],
      ['/v1/feedback', feedback('summarizer')],
    ] as const) {
      const forged = await t.post(url, item, keyB.header);
      expect([url, forged.status, (forged.body as ErrorBody).error.code]).toEqual([
        url,
        404,
        'experiment_not_found',
      ]);
      const own = await t.post(url, { ...item, requestId: randomUUID() }, keyA.header);
      expect([url, own.status]).toEqual([url, 202]);
    }
  });

  it("answers another project's experiment exactly like one that exists nowhere", async () => {
    for (const url of ['/v1/generations', '/v1/feedback']) {
      const make = url === '/v1/feedback' ? feedback : generation;
      const theirs = await t.post(url, make('summarizer'), keyB.header);
      const nowhere = await t.post(url, make('summarizer-nowhere'), keyB.header);
      expect(nowhere.status).toBe(404);
      expect(theirs.status).toBe(nowhere.status);
      const neutral = (r: { body: unknown }, key: string) =>
        JSON.parse(JSON.stringify(r.body).replaceAll(key, '<key>')) as ErrorBody;
      expect(neutral(theirs, 'summarizer')).toEqual(neutral(nowhere, 'summarizer-nowhere'));
    }
  });

  it('batches report the 404 per item and accept the rest; refused items never reach the topic', async () => {
    const items = [
      feedback('rival'),
      feedback('summarizer'),
      feedback('shared'),
      feedback('shared', { rating: 1 }),
    ];
    const res = await t.post('/v1/feedback/batch', { items }, keyB.header);
    expect(res.status).toBe(202);
    const body = res.body as { accepted: string[]; rejected: { index: number; code: string }[] };
    expect(body.accepted).toHaveLength(3);
    expect(body.rejected).toEqual([expect.objectContaining({ index: 1, code: 'experiment_not_found' })]);

    const generations = [generation('summarizer'), generation('summarizer')];
    const none = await t.post('/v1/generations/batch', { items: generations }, keyB.header);
    expect(none.status).toBe(400);
    expect(none.body).toMatchObject({
      accepted: [],
      rejected: [
        { index: 0, code: 'experiment_not_found' },
        { index: 1, code: 'experiment_not_found' },
      ],
      error: { code: 'batch_rejected' },
    });

    const ids = items.map((i) => i.requestId);
    const records = await recordsOf(feedbackTopic, ids, 3);
    expect(records.map((r) => (parseEvent(r.value).data as { requestId: string }).requestId).sort()).toEqual(
      [ids[0], ids[2], ids[3]].sort(),
    );
    // Nothing of a refused generation batch was published (a marker published after it is there).
    const marker = generation('rival');
    expect((await t.post('/v1/generations', marker, keyB.header)).status).toBe(202);
    const published = await recordsOf(
      generationsTopic,
      [...generations.map((g) => g.requestId), marker.requestId],
      1,
    );
    expect(published.map((r) => (parseEvent(r.value).data as { requestId: string }).requestId)).toEqual([
      marker.requestId,
    ]);
  });

  it('every event carries the project of the key that sent it', async () => {
    const a = feedback('shared');
    const b = feedback('shared');
    const plain = { requestId: randomUUID(), rating: 4, source: 'user' };
    expect((await t.post('/v1/feedback', a, keyA.header)).status).toBe(202);
    expect((await t.post('/v1/feedback', b, keyB.header)).status).toBe(202);
    expect((await t.post('/v1/feedback', plain)).status).toBe(202);
    const gen = generation('rival');
    expect((await t.post('/v1/generations', gen, keyB.header)).status).toBe(202);
    const projectOfRequest = (rs: TopicRecord[]) =>
      Object.fromEntries(
        rs.map((r) => {
          const e = parseEvent(r.value);
          return [(e.data as { requestId: string }).requestId, e.project];
        }),
      );
    expect(
      projectOfRequest(await recordsOf(feedbackTopic, [a.requestId, b.requestId, plain.requestId])),
    ).toEqual({
      [a.requestId]: 'team-a',
      [b.requestId]: 'team-b',
      [plain.requestId]: 'default',
    });
    expect(projectOfRequest(await recordsOf(generationsTopic, [gen.requestId]))).toEqual({
      [gen.requestId]: 'team-b',
    });
  });

  it('learns an experiment created after the start, and reports the delay', async () => {
    const item = feedback('late-experiment');
    expect((await t.post('/v1/feedback', item, keyB.header)).status).toBe(404);
    const published = Date.now();
    await publishExperiments(infra.kafkaBrokers, infra.topicPrefix, [
      { key: 'late-experiment', project: 'team-b' },
    ]);
    const directory = t.app.get(ExperimentDirectory);
    await expectEventually(() => expect(directory.has('team-b', 'late-experiment')).toBe(true), {
      timeoutMs: 10_000,
      intervalMs: 5,
    });
    const delayMs = Date.now() - published;
    console.log(`experiment propagation to ingestion: ${delayMs} ms after the broker's ack`);
    expect(delayMs).toBeLessThan(5_000);
    expect((await t.post('/v1/feedback', item, keyB.header)).status).toBe(202);
    expect(directory.has('team-a', 'late-experiment')).toBe(false);
  });

  it('is part of readiness', async () => {
    const fastify = t.app.getHttpAdapter().getInstance();
    const ready = await fastify.inject({ method: 'GET', url: '/health/ready' });
    expect(JSON.stringify(ready.json())).toContain('experiments');
    expect(ready.statusCode).toBe(200);
  });
});

describe('feedback ids are per project', () => {
  it('the same feedbackId in two projects is two items with revisions of their own', async () => {
    const feedbackId = `fb-${randomUUID()}`;
    const requestId = randomUUID();
    const inA = await t.post('/v1/feedback', { ...feedback('shared'), feedbackId, requestId }, keyA.header);
    // Another requestId: in one project this would be 409 feedback_id_conflict.
    const inB = await t.post('/v1/feedback', { ...feedback('shared'), feedbackId, rating: 1 }, keyB.header);
    expect([inA.status, inA.body]).toEqual([202, { feedbackId, revision: 1, outcome: 'new' }]);
    expect([inB.status, inB.body]).toEqual([202, { feedbackId, revision: 1, outcome: 'new' }]);
    const editA = await t.post(
      '/v1/feedback',
      { ...feedback('shared'), feedbackId, requestId, rating: 2 },
      keyA.header,
    );
    expect(editA.body).toEqual({ feedbackId, revision: 2, outcome: 'edit' });
  });

  it("a server-issued id sent back by another project's key reveals nothing of the first project", async () => {
    const first = await t.post('/v1/feedback', feedback('shared'), keyA.header);
    expect(first.status).toBe(202);
    const { feedbackId } = first.body as { feedbackId: string };
    const guess = await t.post('/v1/feedback', { ...feedback('shared'), feedbackId }, keyB.header);
    expect(guess.status).toBe(202);
    expect(guess.body).toMatchObject({ feedbackId });
  });

  it('claims written before projects belong to default: the same content again is a duplicate there only', async () => {
    const again = await t.post('/v1/feedback', OLD_ITEM);
    expect([again.status, again.body]).toEqual([
      202,
      { feedbackId: OLD_ITEM.feedbackId, revision: 1, outcome: 'duplicate' },
    ]);
    const elsewhere = await t.post('/v1/feedback', OLD_ITEM, keyB.header);
    expect(elsewhere.body).toEqual({ feedbackId: OLD_ITEM.feedbackId, revision: 1, outcome: 'new' });
    const claims = requestCollection(
      t.app.get<Model<StoredRevisionDocument>>(getModelToken(FEEDBACK_REVISION_MODEL)),
    );
    expect(await claims.findOne({ _id: `${OLD_ITEM.feedbackId}#1` })).toMatchObject({ project: 'default' });
    // team-b's claim is under team-b's key (a packed claim: its project is the key's).
    const teamB = await claims.findOne({ _id: `${OLD_ITEM.feedbackId}#1@team-b` });
    expect(teamB && storedRevision(OLD_ITEM.feedbackId, 1, teamB)).toMatchObject({
      requestId: OLD_ITEM.requestId,
    });
  });
});

describe('ingestion needs a valid key with the ingest scope', () => {
  const ROUTES = ['/v1/generations', '/v1/generations/batch', '/v1/feedback', '/v1/feedback/batch'];
  const body = (url: string) => {
    const item = url.startsWith('/v1/feedback') ? feedback('shared') : generation('shared');
    return url.endsWith('/batch') ? { items: [item] } : item;
  };

  it('401 unauthenticated without a key and with a malformed or unknown one, the same body for each', async () => {
    const unknown = `llmk_${'0'.repeat(20)}_${'A'.repeat(43)}`;
    for (const url of ROUTES) {
      const answers = [];
      for (const authorization of ['', 'Bearer not-a-key', `Bearer ${unknown}`]) {
        const res = await t.post(url, body(url), { authorization });
        answers.push([res.status, (res.body as ErrorBody).error]);
      }
      expect(answers[0]).toEqual([401, expect.objectContaining({ code: 'unauthenticated' })]);
      expect(answers[1]).toEqual(answers[0]);
      expect(answers[2]).toEqual(answers[0]);
    }
  });

  it('403 forbidden for a valid key without the ingest scope', async () => {
    const reader = await issueTestKey(infra, {
      project: 'team-a',
      scopes: ['results:read', 'experiments:read'],
    });
    await t.app.get(KeyDirectory).waitFor(reader.keyId);
    for (const url of ROUTES) {
      const res = await t.post(url, body(url), reader.header);
      expect([url, res.status, (res.body as ErrorBody).error.code]).toEqual([url, 403, 'forbidden']);
    }
  });
});
