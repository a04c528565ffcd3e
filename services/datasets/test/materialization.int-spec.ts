/**
 * Materialization against real Kafka and MongoDB: feedback before and after its generation, edits,
 * stale revisions, poison, alias moves and projects.
 */
import { DLQ_HEADERS, type FeedbackSubmittedInput, TOPICS, topicName } from '@llmops/contracts';
import { sha256Hex } from '@llmops/hashing';
import {
  expectEventually,
  startTopicReader,
  type TestInfra,
  testInfra,
  type TopicReader,
} from '@llmops/testing';
import type { Kafka, Producer } from 'kafkajs';
import { deriveSignals, latestRevisions } from '../src/domain/signals';
import type { ExampleDoc } from '../src/domain/example';
import { AliasRepository } from '../src/persistence/alias.repository';
import { EXAMPLE_LAYOUT, type ExampleLayout } from '../src/persistence/example-layout';
import { type DatasetsTestApp, startDatasets } from './support/datasets-app';
import {
  aliasMovedEvent,
  connectProducer,
  createTopics,
  feedbackEvent,
  generationEvent,
  groupLag,
  openDatabase,
  produce,
  type Produced,
} from './support/scenario';

const at = (offsetMs = 0) => new Date(Date.now() - 60_000 + offsetMs).toISOString();

function generation(requestId: string, output = `answer to ${requestId}`) {
  return {
    requestId,
    model: 'gpt-x',
    input: [{ role: 'user' as const, content: `question of ${requestId}` }],
    output,
    latencyMs: 42,
    timestamp: at(),
    receivedAt: at(),
  };
}

function feedback(
  requestId: string,
  feedbackId: string,
  revision: number,
  signals: Partial<FeedbackSubmittedInput>,
): FeedbackSubmittedInput {
  return {
    requestId,
    feedbackId,
    revision,
    edit: revision === 1 ? null : { previousRevision: revision - 1 },
    source: 'user',
    timestamp: at(revision),
    receivedAt: at(revision),
    ...signals,
  };
}

describe('datasets materialization', () => {
  let infra: TestInfra;
  let svc: DatasetsTestApp;
  let kafka: Kafka;
  let producer: Producer;
  let db: Awaited<ReturnType<typeof openDatabase>>;
  let dead: TopicReader;

  beforeAll(async () => {
    infra = testInfra('datasets-materialization');
    ({ kafka, producer } = await connectProducer(infra.kafkaBrokers));
    await createTopics(kafka, infra.topicPrefix);
    dead = await startTopicReader(infra.kafkaBrokers, topicName(TOPICS.deadLetter, infra.topicPrefix));
    db = await openDatabase(infra);
    svc = await startDatasets(infra);
  }, 120_000);

  afterAll(async () => {
    await svc?.close();
    await dead?.stop();
    await producer?.disconnect();
    await db?.close();
  });

  const send = (...events: Produced[]) => produce(producer, infra.topicPrefix, events);
  const settle = () =>
    expectEventually(
      async () =>
        expect(await groupLag(kafka, svc.config.DATASETS_CONSUMER_GROUP, infra.topicPrefix)).toBe(0),
      { timeoutMs: 60_000, intervalMs: 250 },
    );
  const example = async (id: string) => (await db.one(id)) as unknown as ExampleDoc | null;

  it('parks feedback that comes before its generation and completes the example when it arrives', async () => {
    await send(feedbackEvent(feedback('early', 'fb-early', 1, { rating: 2 })));
    const parked = await expectEventually(async () => {
      const doc = await example('early');
      expect(doc).not.toBeNull();
      return doc!;
    });
    expect(parked.generation).toBeUndefined();
    expect(latestRevisions(parked).map((r) => r.rating)).toEqual([2]);

    await send(generationEvent(generation('early')));
    await send(feedbackEvent(feedback('early', 'fb-late', 1, { thumbs: 'up' })));
    const done = await expectEventually(async () => {
      const doc = await example('early');
      expect(doc?.generation).toBeDefined();
      expect(Object.keys(doc?.feedback ?? {})).toHaveLength(2);
      return doc!;
    });
    expect(done.generation).toEqual({
      ...generation('early'),
      requestId: undefined,
      inputHash: expect.stringMatching(/^[0-9a-f]{64}$/),
      timestamp: expect.any(String),
      receivedAt: expect.any(String),
    });
    expect(latestRevisions(done).map((r) => [r.feedbackId, r.rating, r.thumbs])).toEqual([
      ['fb-early', 2, undefined],
      ['fb-late', undefined, 'up'],
    ]);
    // The earliest event sets the retention clock.
    expect(done.firstSeenAt.getTime()).toBe(Date.parse(latestRevisions(done)[0].receivedAt));
  });

  it('an edit replaces every value of the earlier revision; a stale revision does not come back', async () => {
    const first = feedbackEvent(
      feedback('edited', 'fb.edit', 1, { rating: 1, comment: 'bad', scores: { tone: 0.1 } }),
    );
    const edit = feedbackEvent(feedback('edited', 'fb.edit', 2, { thumbs: 'up', scores: { tone: 0.9 } }));
    await send(generationEvent(generation('edited')), first);
    await settle();
    await send(edit);
    await settle();
    const doc = (await example('edited'))!;
    // In the `documents` layout the edit removed the revision it replaces; insert-only facts keep it
    // beside the edit, where it loses when read.
    const kept = svc.app.get<ExampleLayout>(EXAMPLE_LAYOUT) === 'documents' ? ['r2'] : ['r1', 'r2'];
    expect(Object.values(doc.feedback ?? {}).map((item) => Object.keys(item).sort())).toEqual([kept]);
    expect(latestRevisions(doc)).toEqual([
      expect.objectContaining({ revision: 2, thumbs: 'up', scores: [{ name: 'tone', value: 0.9 }] }),
    ]);
    expect(latestRevisions(doc)[0]).not.toHaveProperty('rating');
    expect(latestRevisions(doc)[0]).not.toHaveProperty('comment');
    const signals = deriveSignals(doc);
    expect(signals.rating).toBeUndefined();
    expect(signals.comment).toBeUndefined();
    expect(signals.thumbs).toEqual({ value: 'up', source: 'user', feedbackId: 'fb.edit' });

    // Revision 1 again (a late re-delivery) and a duplicate of revision 2: still revision 2.
    await send(first, edit);
    await settle();
    const after = (await example('edited'))!;
    expect(latestRevisions(after)).toEqual(latestRevisions(doc));
    expect(deriveSignals(after)).toEqual(signals);
  });

  it('materializes score names and metadata keys holding dots (not field names once stored)', async () => {
    await send(
      generationEvent({ ...generation('dotted'), metadata: { 'a.b': 1, nested: { 'c.d': 'x' } } }),
      feedbackEvent(feedback('dotted', 'fb.dotted', 1, { scores: { 'tone.friendly': 0.75, helpful: 1 } })),
    );
    await settle();
    const doc = (await example('dotted'))!;
    expect(doc.generation).toMatchObject({ output: 'answer to dotted', model: 'gpt-x' });
    expect(doc.generation).not.toHaveProperty('metadata');
    expect(latestRevisions(doc)[0].scores).toEqual([
      { name: 'helpful', value: 1 },
      { name: 'tone.friendly', value: 0.75 },
    ]);
    expect(deriveSignals(doc).scores).toEqual({
      helpful: { value: 1, source: 'user', feedbackId: 'fb.dotted' },
      'tone.friendly': { value: 0.75, source: 'user', feedbackId: 'fb.dotted' },
    });
    expect(dead.records.filter((d) => String(d.value).includes('dotted'))).toEqual([]);
  });

  it('dead-letters invalid JSON, a wrong event type and a contract-invalid record with the reason, and applies the rest', async () => {
    const good = generationEvent(generation('after-poison'));
    const wrongType = { ...feedbackEvent(feedback('x', 'fb-x', 1, { rating: 3 })), topic: 'g' as const };
    const invalid = generationEvent(generation('invalid'));
    const contractInvalid: Produced = {
      ...invalid,
      value: invalid.value.replace('"model":"gpt-x",', ''),
    };
    const poison: Produced[] = [
      { topic: 'g', key: 'bad-json', value: '{"specversion":' },
      wrongType,
      contractInvalid,
      { topic: 'f', key: 'bad-json', value: 'not json' },
    ];
    await send(poison[0], wrongType, contractInvalid, good, poison[3]);
    await settle();
    expect(await example('after-poison')).not.toBeNull();
    expect(await example('invalid')).toBeNull();
    expect(await example('x')).toBeNull();
    await expectEventually(() => expect(dead.records).toHaveLength(poison.length));
    const causes = dead.records.map((d) => d.headers[DLQ_HEADERS.error]);
    expect(causes).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/malformed JSON/),
        expect.stringMatching(/unexpected event type io\.llmops\.feedback\.submitted\.v1/),
        expect.stringMatching(/model/),
      ]),
    );
    expect(dead.records.map((d) => d.value).sort()).toEqual(poison.map((p) => p.value).sort());
  });

  it('resolves an alias to the hash of its last move, per project', async () => {
    const hash = (n: number) => sha256Hex(`prompt v${n}`);
    await send(
      aliasMovedEvent({ name: 'support', alias: 'production', from: null, to: hash(1), toVersion: 1 }),
      aliasMovedEvent({ name: 'support', alias: 'production', from: hash(1), to: hash(2), toVersion: 2 }),
      aliasMovedEvent({ name: 'support', alias: 'staging', from: null, to: hash(3), toVersion: 3 }),
      aliasMovedEvent(
        { name: 'support', alias: 'production', from: null, to: hash(7), toVersion: 1 },
        'acme',
      ),
    );
    await settle();
    const aliases = svc.app.get(AliasRepository, { strict: false });
    expect(await aliases.resolve('default', 'support', 'production')).toBe(hash(2));
    expect(await aliases.resolve('default', 'support', 'staging')).toBe(hash(3));
    expect(await aliases.resolve('acme', 'support', 'production')).toBe(hash(7));
    expect(await aliases.resolve('acme', 'support', 'staging')).toBeNull();
    expect(await aliases.resolve('default', 'other', 'production')).toBeNull();

    // Moved back to an older version: the last move wins, not the highest version.
    await send(
      aliasMovedEvent({ name: 'support', alias: 'production', from: hash(2), to: hash(1), toVersion: 1 }),
    );
    await settle();
    expect(await aliases.resolve('default', 'support', 'production')).toBe(hash(1));
  });

  it('keeps the examples of one request id in two projects apart', async () => {
    await send(
      generationEvent(generation('shared', 'default answer')),
      generationEvent(generation('shared', 'acme answer'), 'acme'),
      feedbackEvent(feedback('shared', 'fb-shared', 1, { rating: 5 }), 'acme'),
    );
    await settle();
    const mine = (await example('shared'))!;
    const theirs = (await example('acme\u001fshared'))!;
    expect([mine.project, mine.generation?.output, latestRevisions(mine)]).toEqual([
      'default',
      'default answer',
      [],
    ]);
    expect([theirs.project, theirs.requestId, theirs.generation?.output]).toEqual([
      'acme',
      'shared',
      'acme answer',
    ]);
    expect(latestRevisions(theirs).map((r) => r.rating)).toEqual([5]);
  });
});
