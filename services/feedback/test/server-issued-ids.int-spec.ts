/**
 * Server-issued feedbackIds in the paged design (PagedFeedbackRevisions): revision 1 is published
 * without a claim and claimed after the ack, in pages (FirstRevisionWriter). Real Kafka and MongoDB; replicas share one database and one key.
 */
import { parseEvent, TOPICS, topicName } from '@llmops/contracts';
import { requestCollection } from '@llmops/platform';
import { expectEventually, testInfra } from '@llmops/testing';
import { getModelToken } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { randomUUID } from 'node:crypto';
import { FeedbackRevisionRepository } from '../src/feedback/persistence/feedback-revision.repository';
import {
  FEEDBACK_REVISION_MODEL,
  type StoredRevisionDocument,
  storedRevision,
} from '../src/feedback/persistence/feedback-revision.schema';
import {
  FIRST_REVISION_PAGE_MODEL,
  type FirstRevisionPageDocument,
  pageWindowOf,
} from '../src/feedback/persistence/first-revision-pages';
import { ServerFeedbackIds } from '../src/feedback/server-feedback-ids';
import { readTopic, startFeedbackApp, type FeedbackTestApp, type TopicRecord } from './support/feedback-app';

const infra = testInfra();
const feedbackTopic = topicName(TOPICS.feedback, infra.topicPrefix);
const KEY = 'server-issued-ids-int-spec';
const env = {
  KAFKA_BROKERS: infra.kafkaBrokers,
  MONGODB_URI: infra.mongoUri,
  MONGODB_DB: infra.dbName,
  KAFKA_TOPIC_PREFIX: infra.topicPrefix,
  KAFKA_PRODUCER_LINGER_MS: '2',
  FEEDBACK_ID_KEYS: KEY,
  // The design under test, whichever server runs (`auto` picks it on FerretDB only).
  FEEDBACK_REVISION_STORE: 'paged',
};
let a: FeedbackTestApp;
let b: FeedbackTestApp;

beforeAll(async () => {
  // Claims wait 500 ms for company: long enough to see them queued, shorter than an edit's wait.
  a = await startFeedbackApp({ ...env, FEEDBACK_FIRST_CLAIM_LINGER_MS: '500' });
  b = await startFeedbackApp(env);
});

afterAll(async () => {
  await a?.close();
  await b?.close();
});

interface Accepted {
  feedbackId: string;
  revision: number;
  outcome: string;
}

async function submit(t: FeedbackTestApp, body: Record<string, unknown>): Promise<Accepted> {
  const res = await t.post('/v1/feedback', body);
  expect(res.status).toBe(202);
  return res.body as Accepted;
}

function claims(t: FeedbackTestApp) {
  return requestCollection(t.app.get<Model<StoredRevisionDocument>>(getModelToken(FEEDBACK_REVISION_MODEL)));
}

/** The revision-1 claim of `feedbackId` in feedback_revisions (either layout), or null. */
async function storedFirstClaim(t: FeedbackTestApp, feedbackId: string) {
  const doc = await claims(t).findOne({ _id: `${feedbackId}#1` });
  return doc && storedRevision(feedbackId, 1, doc);
}

/** The revision-1 claim of a server-issued id as its replicas read it: from the pages. */
function firstClaim(t: FeedbackTestApp, feedbackId: string) {
  return t.app.get(FeedbackRevisionRepository).firstRevision('default', feedbackId);
}

async function eventsOf(feedbackId: string, count: number): Promise<TopicRecord[]> {
  const mine = (rs: TopicRecord[]) =>
    rs.filter((r) => parseEvent(r.value).id.startsWith(`fb:${feedbackId}:`));
  return mine(await readTopic(infra.kafkaBrokers, feedbackTopic, (rs) => mine(rs).length >= count));
}

describe('server-issued feedbackIds', () => {
  it('are recognisable UUIDv7s; revision 1 is claimed after the ack; on the same replica a resubmission is a duplicate and a change an edit', async () => {
    const requestId = randomUUID();
    const body = { requestId, rating: 4, comment: 'ok', source: 'user' };
    const issued = await submit(a, body);
    expect(issued).toMatchObject({ revision: 1, outcome: 'new' });
    expect(new ServerFeedbackIds([KEY]).isServerIssued(issued.feedbackId)).toBe(true);
    expect(new ServerFeedbackIds(['another key']).isServerIssued(issued.feedbackId)).toBe(false);
    // Published and answered before the claim exists: it is still queued.
    expect(await firstClaim(a, issued.feedbackId)).toBeNull();

    // Sent right away: the same replica waits for its own queued claim, so this is exact (without
    // the wait it would find no claim and plan an edit).
    const again = await submit(a, { ...body, feedbackId: issued.feedbackId });
    expect(again).toEqual({ feedbackId: issued.feedbackId, revision: 1, outcome: 'duplicate' });
    const edit = await submit(a, { ...body, feedbackId: issued.feedbackId, rating: 5 });
    expect(edit).toEqual({ feedbackId: issued.feedbackId, revision: 2, outcome: 'edit' });

    const stored = await firstClaim(a, issued.feedbackId);
    expect(stored).toMatchObject({ requestId, revision: 1, previousRevision: null });
    // Not in feedback_revisions: one page holds the claims of a window.
    expect(await claims(a).findOne({ _id: `${issued.feedbackId}#1` })).toBeNull();

    const records = await eventsOf(issued.feedbackId, 3);
    const firsts = records.filter((r) => parseEvent(r.value).id === `fb:${issued.feedbackId}:1`);
    expect(firsts).toHaveLength(2);
    expect(firsts[1]!.value).toBe(firsts[0]!.value);
    expect(records.map((r) => parseEvent(r.value).id)).toContain(`fb:${issued.feedbackId}:2`);
  });

  it('an edit on another replica before the revision-1 claim is written becomes revision 2; the late claim changes nothing', async () => {
    // A replica that holds its claims back for 10 s (until its shutdown flush).
    const slow = await startFeedbackApp({ ...env, FEEDBACK_FIRST_CLAIM_LINGER_MS: '10000' });
    let slowOpen = true;
    try {
      const requestId = randomUUID();
      const issued = await submit(slow, { requestId, thumbs: 'up', source: 'user' });
      expect(await firstClaim(b, issued.feedbackId)).toBeNull();

      // Replica b finds no claim and recognises the id: even the identical content is an edit of
      // revision 1 then (the claim holding its hash is not readable yet), never a second revision 1.
      const body = { feedbackId: issued.feedbackId, requestId, source: 'user' };
      const same = await submit(b, { ...body, thumbs: 'up' });
      expect(same).toEqual({ feedbackId: issued.feedbackId, revision: 2, outcome: 'edit' });
      const edit = await submit(b, { ...body, thumbs: 'down' });
      expect(edit).toEqual({ feedbackId: issued.feedbackId, revision: 3, outcome: 'edit' });

      // Shutdown writes the held-back claim before the connection closes.
      await slow.close();
      slowOpen = false;
      expect(await firstClaim(b, issued.feedbackId)).toMatchObject({ requestId });
      const next = await submit(b, { feedbackId: issued.feedbackId, requestId, rating: 3, source: 'user' });
      expect(next).toEqual({ feedbackId: issued.feedbackId, revision: 4, outcome: 'edit' });

      const records = await eventsOf(issued.feedbackId, 4);
      const byId = new Map<string, Set<string>>();
      for (const r of records) {
        const id = parseEvent(r.value).id;
        byId.set(id, (byId.get(id) ?? new Set()).add(r.value));
      }
      expect([...byId.keys()].sort()).toEqual([1, 2, 3, 4].map((n) => `fb:${issued.feedbackId}:${n}`));
      // No event id ever carries two values.
      for (const values of byId.values()) expect(values.size).toBe(1);
      const second = parseEvent(records.find((r) => parseEvent(r.value).id.endsWith(':2'))!.value);
      expect(second.data).toMatchObject({ revision: 2, edit: { previousRevision: 1 }, thumbs: 'up' });
      const third = parseEvent(records.find((r) => parseEvent(r.value).id.endsWith(':3'))!.value);
      expect(third.data).toMatchObject({ revision: 3, edit: { previousRevision: 2 }, thumbs: 'down' });
    } finally {
      if (slowOpen) await slow.close();
    }
  });

  it('an edit on the issuing replica waits at most about 1 s for a claim queued longer, then is revision 2', async () => {
    const slow = await startFeedbackApp({ ...env, FEEDBACK_FIRST_CLAIM_LINGER_MS: '10000' });
    try {
      const requestId = randomUUID();
      const issued = await submit(slow, { requestId, rating: 2, source: 'user' });
      const started = Date.now();
      const edit = await submit(slow, {
        feedbackId: issued.feedbackId,
        requestId,
        rating: 3,
        source: 'user',
      });
      // Behaviour, not speed: without the bound it would wait out the 10 s linger.
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      expect(Date.now() - started).toBeLessThan(8_000);
      expect(edit).toEqual({ feedbackId: issued.feedbackId, revision: 2, outcome: 'edit' });
    } finally {
      await slow.close();
    }
  });

  it('writes the claims of concurrent submissions as a few pages, and every one is read back exactly', async () => {
    const bodies = Array.from({ length: 100 }, (_, i) => ({
      requestId: randomUUID(),
      rating: (i % 5) + 1,
      source: 'user',
    }));
    const issued = await Promise.all(bodies.map((body) => submit(b, body)));
    const ids = issued.map((x) => x.feedbackId);
    const windows = new Set(ids.map((id) => JSON.stringify(pageWindowOf(id))));
    // Pages are written 50 ms (the default linger) after their 100 ms window ended.
    await expectEventually(
      async () => {
        const stored = await Promise.all(ids.map((id) => firstClaim(b, id)));
        stored.forEach((claim, i) =>
          expect(claim).toMatchObject({ feedbackId: ids[i], requestId: bodies[i]!.requestId, revision: 1 }),
        );
      },
      { timeoutMs: 5_000, intervalMs: 50 },
    );
    const pages = await requestCollection(
      b.app.get<Model<FirstRevisionPageDocument>>(getModelToken(FIRST_REVISION_PAGE_MODEL)),
    )
      .find({
        _id: { $in: [...windows].map((w) => `${JSON.parse(w).node}:${JSON.parse(w).window}:0`) },
      })
      .toArray();
    expect(pages).toHaveLength(windows.size);
    // Far fewer documents than claims: the point of pages.
    expect(windows.size).toBeLessThan(ids.length / 2);
    // An identical resubmission on the same replica is recognised from the page.
    const again = await submit(b, { ...bodies[7], feedbackId: ids[7] });
    expect(again).toEqual({ feedbackId: ids[7], revision: 1, outcome: 'duplicate' });
  });

  it('an id that merely looks like a UUIDv7 is a client id: claimed before publishing, as always', async () => {
    const feedbackId = '01900000-0000-7000-8000-000000000000';
    const requestId = randomUUID();
    const first = await submit(a, { feedbackId, requestId, rating: 2, source: 'judge' });
    expect(first).toEqual({ feedbackId, revision: 1, outcome: 'new' });
    // Readable as soon as the 202 is back (replica a would hold an after-ack claim for 500 ms).
    expect(await storedFirstClaim(a, feedbackId)).toMatchObject({ requestId });
  });

  it('refuses a server-issued id from the future: nobody can claim ids before the service issues them', async () => {
    const future = new ServerFeedbackIds([KEY], () => Date.now() + 60_000).next();
    const res = await b.post('/v1/feedback', {
      feedbackId: future,
      requestId: randomUUID(),
      rating: 1,
      source: 'user',
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { code: 'validation_failed' } });
    expect(JSON.stringify(res.body)).toContain('feedbackId');
    // Within the clock-skew allowance it is accepted (as an edit of an unknown revision 1).
    const soon = new ServerFeedbackIds([KEY], () => Date.now() + 1_000).next();
    const ok = await submit(b, { feedbackId: soon, requestId: randomUUID(), rating: 1, source: 'user' });
    expect(ok).toMatchObject({ revision: 2, outcome: 'edit' });
  });

  it('with FEEDBACK_FIRST_CLAIM_AFTER_ACK=false, revision 1 of a server-issued id is claimed before publishing', async () => {
    const before = await startFeedbackApp({
      ...env,
      FEEDBACK_FIRST_CLAIM_AFTER_ACK: 'false',
      FEEDBACK_FIRST_CLAIM_LINGER_MS: '10000',
    });
    try {
      const requestId = randomUUID();
      const issued = await submit(before, { requestId, rating: 5, source: 'user' });
      expect(issued).toMatchObject({ revision: 1, outcome: 'new' });
      expect(new ServerFeedbackIds([KEY]).isServerIssued(issued.feedbackId)).toBe(true);
      expect(await storedFirstClaim(b, issued.feedbackId)).toMatchObject({ requestId });
      expect(await firstClaim(b, issued.feedbackId)).toBeNull();
      const again = await submit(b, { requestId, rating: 5, source: 'user', feedbackId: issued.feedbackId });
      expect(again).toEqual({ feedbackId: issued.feedbackId, revision: 1, outcome: 'duplicate' });
    } finally {
      await before.close();
    }
  });
});
