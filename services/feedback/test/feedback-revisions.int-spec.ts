/**
 * The contract of FeedbackRevisions, run against both designs on the real MongoDB-wire server
 * (neither depends on more than unique `_id` inserts and `_id` reads, so both run on MongoDB and on
 * FerretDB), and the design `auto` picks for the server.
 */
import { mongoServerKind, requestCollection } from '@llmops/platform';
import { testInfra } from '@llmops/testing';
import { getConnectionToken, getModelToken } from '@nestjs/mongoose';
import type { Connection, Model } from 'mongoose';
import { randomUUID } from 'node:crypto';
import { FeedbackRevisions } from '../src/feedback/feedback-revisions';
import { PagedFeedbackRevisions } from '../src/feedback/paged-feedback-revisions';
import {
  FEEDBACK_REVISION_MODEL,
  type StoredRevisionDocument,
} from '../src/feedback/persistence/feedback-revision.schema';
import { PlainFeedbackRevisions } from '../src/feedback/plain-feedback-revisions';
import type { PlannedRevision } from '../src/feedback/revision-plan';
import { type FeedbackTestApp, startFeedbackApp } from './support/feedback-app';

const infra = testInfra();
const env = {
  KAFKA_BROKERS: infra.kafkaBrokers,
  MONGODB_URI: infra.mongoUri,
  MONGODB_DB: infra.dbName,
  KAFKA_TOPIC_PREFIX: infra.topicPrefix,
};

/** Reserves one submission, as the use case does, and reports the broker ack right away. */
async function reserveOne(
  revisions: FeedbackRevisions,
  feedbackId: string,
  requestId: string,
  contentHash: string,
  issued = false,
) {
  const reservation = await revisions.reserve(
    [{ feedbackId, issued, submissions: [{ requestId, contentHash }] }],
    new Date().toISOString(),
    'default',
  );
  reservation.acknowledged();
  return reservation.conflicts.get(feedbackId) ?? reservation.plans.get(feedbackId)?.items[0];
}

describe.each(['plain', 'paged'] as const)('FeedbackRevisions contract: %s design', (design) => {
  let t: FeedbackTestApp;
  let revisions: FeedbackRevisions;

  beforeAll(async () => {
    t = await startFeedbackApp({ ...env, FEEDBACK_REVISION_STORE: design });
    revisions = t.app.get(FeedbackRevisions);
    expect(revisions).toBeInstanceOf(design === 'plain' ? PlainFeedbackRevisions : PagedFeedbackRevisions);
  });

  afterAll(() => t?.close());

  const submit = (feedbackId: string, requestId: string, contentHash: string, issued = false) =>
    reserveOne(revisions, feedbackId, requestId, contentHash, issued);

  it('a new id is revision 1; the same content again is a duplicate with the same times; a change is the next revision', async () => {
    const id = randomUUID();
    const first = (await submit(id, 'r1', 'h1')) as PlannedRevision;
    expect(first).toMatchObject({ outcome: 'new', revision: 1, previousRevision: null });
    expect(await submit(id, 'r1', 'h1')).toEqual({ ...first, outcome: 'duplicate' });
    expect(await submit(id, 'r1', 'h2')).toMatchObject({ outcome: 'edit', revision: 2, previousRevision: 1 });
    expect(await submit(id, 'r1', 'h1')).toMatchObject({ outcome: 'edit', revision: 3, previousRevision: 2 });
  });

  it('an issued id, once acknowledged, is planned like any other: a resubmission is a duplicate, a change an edit', async () => {
    const id = revisions.issueId();
    expect(id).not.toBe(revisions.issueId());
    const first = (await submit(id, 'r1', 'h1', true)) as PlannedRevision;
    expect(first).toMatchObject({ outcome: 'new', revision: 1 });
    expect(await submit(id, 'r1', 'h1')).toEqual({ ...first, outcome: 'duplicate' });
    expect(await submit(id, 'r1', 'h2')).toMatchObject({ outcome: 'edit', revision: 2, previousRevision: 1 });
  });

  it('feedback cannot move to another requestId', async () => {
    const id = randomUUID();
    await submit(id, 'r1', 'h1');
    expect(await submit(id, 'r2', 'h1')).toMatchObject({ status: 409, code: 'feedback_id_conflict' });
  });

  it('concurrent different contents of one id: every revision is bound to exactly one content', async () => {
    const id = randomUUID();
    const results = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((h) => submit(id, 'r1', h)));
    const planned = results.filter((r): r is PlannedRevision => r !== undefined && 'revision' in r);
    expect(planned.length).toBeGreaterThan(0);
    const revisionsTaken = planned.map((p) => p.revision);
    expect(new Set(revisionsTaken).size).toBe(revisionsTaken.length);
    expect(results.filter((r) => r && !('revision' in r))).toEqual(
      Array(results.length - planned.length).fill(expect.objectContaining({ code: 'revision_conflict' })),
    );
  });
});

it('auto picks the plain design on MongoDB and the paged one on FerretDB', async () => {
  const t = await startFeedbackApp(env);
  try {
    const kind = await mongoServerKind(t.app.get<Connection>(getConnectionToken()));
    const expected = kind === 'mongodb' ? PlainFeedbackRevisions : PagedFeedbackRevisions;
    expect(t.app.get(FeedbackRevisions)).toBeInstanceOf(expected);
  } finally {
    await t.close();
  }
});

it('claims are written packed by default and field by field with FEEDBACK_PACKED_CLAIMS=false; both layouts are read, also within one id', async () => {
  const packed = await startFeedbackApp(env);
  const fields = await startFeedbackApp({ ...env, FEEDBACK_PACKED_CLAIMS: 'false' });
  try {
    const claims = requestCollection(
      packed.app.get<Model<StoredRevisionDocument>>(getModelToken(FEEDBACK_REVISION_MODEL)),
    );
    const onFields = (id: string, h: string) => reserveOne(fields.app.get(FeedbackRevisions), id, 'r1', h);
    const onPacked = (id: string, h: string) => reserveOne(packed.app.get(FeedbackRevisions), id, 'r1', h);

    // Revision 1 written field by field (as by a version before packed claims), then read packed.
    const a = randomUUID();
    const first = (await onFields(a, 'h1')) as PlannedRevision;
    expect(await claims.findOne({ _id: `${a}#1` })).toMatchObject({
      feedbackId: a,
      revision: 1,
      contentHash: 'h1',
    });
    expect(await onPacked(a, 'h1')).toEqual({ ...first, outcome: 'duplicate' });
    const edit = (await onPacked(a, 'h2')) as PlannedRevision;
    expect(edit).toMatchObject({ outcome: 'edit', revision: 2, previousRevision: 1 });
    expect(await claims.findOne({ _id: `${a}#2` })).toEqual({
      _id: `${a}#2`,
      c: JSON.stringify(['r1', 'h2', edit.receivedAt, edit.timestamp, 1]),
    });
    // And back: a replica writing fields reads the packed revision 2.
    expect(await onFields(a, 'h2')).toEqual({ ...edit, outcome: 'duplicate' });
    expect(await onFields(a, 'h3')).toMatchObject({ outcome: 'edit', revision: 3, previousRevision: 2 });
    expect(await onPacked(a, 'h3')).toMatchObject({ outcome: 'duplicate', revision: 3 });
    expect(await onPacked(a, 'h1')).toMatchObject({ outcome: 'edit', revision: 4, previousRevision: 3 });
  } finally {
    await fields.close();
    await packed.close();
  }
});
