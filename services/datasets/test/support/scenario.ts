/**
 * Test support for materialization: event builders, a deterministic mixed stream (two projects,
 * generations, feedback with edits and stale revisions, feedback before its generation, parked
 * feedback, duplicate records) and its ground truth, computed from the produced events with plain
 * loops (none of the service's code), plus Kafka and MongoDB helpers.
 */
import {
  createEvent,
  EVENT_TYPES,
  type FeedbackSubmittedInput,
  type GenerationLoggedData,
  type PromptAliasMovedData,
  serializeEvent,
  TOPICS,
  topicName,
} from '@llmops/contracts';
import { canonicalize, sha256Hex } from '@llmops/hashing';
import { type ExampleFact, foldFacts } from '../../src/domain/example-facts';
import { ensureTopics } from '@llmops/platform';
import {
  type GroupProgress,
  groupProgress as progressOver,
  sendInOrder,
  type TestInfra,
} from '@llmops/testing';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { createConnection, type mongo } from 'mongoose';

export interface Produced {
  topic: 'g' | 'f' | 'a';
  key: string;
  value: string;
}

const SRC = { source: '/llmops/test' };

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generationEvent(data: GenerationLoggedData, project?: string): Produced {
  const ev = createEvent(EVENT_TYPES.generationLogged, data, { ...SRC, project });
  return { topic: 'g', key: data.requestId, value: serializeEvent(ev) };
}

export function feedbackEvent(data: FeedbackSubmittedInput, project?: string): Produced {
  const ev = createEvent(EVENT_TYPES.feedbackSubmitted, data, { ...SRC, project });
  return { topic: 'f', key: data.requestId, value: serializeEvent(ev) };
}

export function aliasMovedEvent(
  data: Omit<PromptAliasMovedData, 'actor' | 'movedAt'>,
  project?: string,
): Produced {
  const ev = createEvent(
    EVENT_TYPES.promptAliasMoved,
    { ...data, actor: 'test', movedAt: new Date().toISOString() },
    { ...SRC, project },
  );
  return { topic: 'a', key: data.name, value: serializeEvent(ev) };
}

export function topicsFor(prefix: string): Record<Produced['topic'], string> {
  return {
    g: topicName(TOPICS.generations, prefix),
    f: topicName(TOPICS.feedback, prefix),
    a: topicName(TOPICS.promptAliases, prefix),
  };
}

export async function connectProducer(brokers: string): Promise<{ kafka: Kafka; producer: Producer }> {
  const kafka = new Kafka({
    brokers: brokers.split(','),
    clientId: 'datasets-test',
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  return { kafka, producer };
}

/** Sends the events in order (per topic), `chunk` at a time, acknowledged by every replica. */
export async function produce(producer: Producer, prefix: string, events: Produced[], chunk = 2_000) {
  const topics = topicsFor(prefix);
  await sendInOrder(
    producer,
    events.map((e) => ({ topic: topics[e.topic], key: e.key, value: e.value })),
    chunk,
  );
}

/**
 * The service's topics, 6 partitions each (generations and feedback co-partitioned), created the
 * way the services create theirs: kafkajs' own leader wait gives up on the UNKNOWN_TOPIC_OR_PARTITION
 * a just-created topic may answer with, `ensureTopics` waits it out.
 */
export async function createTopics(kafka: Kafka, prefix: string, partitions = 6): Promise<void> {
  await ensureTopics(
    kafka,
    [...Object.values(topicsFor(prefix)), topicName(TOPICS.deadLetter, prefix)].map((name) => ({
      name,
      partitions,
    })),
  );
}

/** Where the group stands over generations, feedback and aliases (see `groupProgress`). */
export function groupProgress(kafka: Kafka, groupId: string, prefix: string): Promise<GroupProgress> {
  return progressOver(kafka, groupId, Object.values(topicsFor(prefix)));
}

/** Total lag of the group over generations, feedback and aliases (0 = everything committed). */
export async function groupLag(kafka: Kafka, groupId: string, prefix: string): Promise<number> {
  return (await groupProgress(kafka, groupId, prefix)).lag;
}

/** A stored example as read back (the fields the tests look at). */
export interface StoredExample {
  _id: string;
  project: string;
  requestId: string;
  generation?: Record<string, unknown>;
  feedback?: Record<string, Record<string, Record<string, unknown> & { revision: number }>>;
  firstSeenAt: Date;
}

/** The test database's `examples`, on a connection of the test's own. */
export async function openDatabase(infra: TestInfra) {
  const connection = await createConnection(infra.mongoBaseUri, { dbName: infra.dbName }).asPromise();
  const db = connection.getClient().db(infra.dbName);
  const examples = db.collection<StoredExample>('examples') as mongo.Collection<StoredExample>;
  const facts = db.collection<ExampleFact>('example_facts') as mongo.Collection<ExampleFact>;
  /** Every stored example by id, whichever layout the service chose (facts folded here). */
  const stored = async (): Promise<StoredExample[]> => {
    const byExample = new Map<string, ExampleFact[]>();
    for (const f of await facts.find({}).toArray()) {
      const list = byExample.get(f.example);
      if (list) list.push(f);
      else byExample.set(f.example, [f]);
    }
    const all = [
      ...(await examples.find({}).toArray()),
      ...[...byExample.values()].map((list) => foldFacts(list) as unknown as StoredExample),
    ];
    return all.sort((a, b) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0));
  };
  return {
    stored,
    one: async (id: string) => (await stored()).find((e) => e._id === id) ?? null,
    close: () => connection.close(),
  };
}

/** Per feedback id, the values of its highest stored revision (derived here, not by the service). */
export function latestByFeedbackId(doc: StoredExample): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const revisions of Object.values(doc.feedback ?? {})) {
    const best = Object.values(revisions).reduce((a, b) => (b.revision > a.revision ? b : a));
    out[best.feedbackId as string] = best;
  }
  return out;
}

/**
 * What an example says (its generation, the latest revision of each feedback item, its retention
 * clock): what re-consuming records must never change. Which superseded revisions are still stored
 * beside the latest ones depends on how records fell into batches, and is not part of it.
 */
export function exampleView(doc: StoredExample) {
  return {
    _id: doc._id,
    project: doc.project,
    requestId: doc.requestId,
    generation: doc.generation,
    feedback: latestByFeedbackId(doc),
    firstSeenAt: doc.firstSeenAt,
  };
}

export interface ExpectedExample {
  project: string;
  requestId: string;
  generation?: Record<string, unknown>;
  /** feedbackId -> the values of its highest revision. */
  feedback: Record<string, Record<string, unknown>>;
  firstSeenAt: number;
}

export interface MixedScenario {
  events: Produced[];
  /** By example: `${project}|${requestId}`. */
  truth: Map<string, ExpectedExample>;
}

/**
 * About `total` events: requests in projects `default` and `acme` (every request id is used in both),
 * 5% of them never get their generation (parked feedback), 15% get it after their feedback;
 * 0-3 feedback items each, 25% edited once or twice, 5% of the edited ones also re-deliver their
 * first revision after the edit (stale); 10% of the records are sent twice.
 */
export function mixedScenario(total: number, seed: number): MixedScenario {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const requests = Math.round(total / 2.9);
  const base = Date.now() - 3_600_000;
  const keyed: Array<{ at: number; event: Produced }> = [];
  const truth = new Map<string, ExpectedExample>();
  let clock = 0;
  const stamp = () => new Date(base + clock++ * 7).toISOString();

  for (let i = 0; i < requests; i++) {
    const project = i % 2 === 0 ? 'default' : 'acme';
    const requestId = `req.${Math.floor(i / 2)}/${seed}`;
    const expected: ExpectedExample = { project, requestId, feedback: {}, firstSeenAt: Infinity };
    truth.set(`${project}|${requestId}`, expected);
    const emit = (at: number, event: Produced, receivedAt: string) => {
      keyed.push({ at, event });
      expected.firstSeenAt = Math.min(expected.firstSeenAt, Date.parse(receivedAt));
      if (r() < 0.1) keyed.push({ at: at + r() * 120, event });
    };

    const x = r();
    if (x >= 0.05) {
      const receivedAt = stamp();
      const input =
        r() < 0.5
          ? `question ${i}`
          : r() < 0.8
            ? [
                { role: 'system' as const, content: 'be brief' },
                { role: 'user' as const, content: `question ${i % 50}` },
              ]
            : undefined;
      const data: GenerationLoggedData = {
        requestId,
        model: pick(['gpt-a', 'gpt-b']),
        ...(input === undefined ? {} : { input }),
        output: `answer ${i}`,
        latencyMs: Math.floor(r() * 2_000),
        ...(r() < 0.5 ? { prompt: { name: 'support', hash: sha256Hex(`p${i % 3}`) } } : {}),
        ...(r() < 0.3 ? { experiment: 'exp-1', arm: pick(['control', 'treatment']) } : {}),
        ...(r() < 0.6 ? { userId: `user-${i % 97}` } : {}),
        ...(r() < 0.7 ? { usage: { promptTokens: i % 300, completionTokens: i % 70 } } : {}),
        ...(r() < 0.5 ? { costUsd: (i % 13) / 1000 } : {}),
        ...(r() < 0.2 ? { metadata: { tier: 'gold', n: i } } : {}),
        timestamp: new Date(Date.parse(receivedAt) - 100).toISOString(),
        receivedAt,
      };
      // Stored without its metadata (no record reads it; its keys may hold dots).
      const { requestId: _, metadata: _metadata, ...generation } = data;
      expected.generation = {
        ...generation,
        ...(input === undefined ? {} : { inputHash: sha256Hex(canonicalize(input)) }),
      };
      // 15%: the generation arrives well after its feedback.
      emit(i + (x < 0.2 ? 20 + r() * 60 : 0), generationEvent(data, project), receivedAt);
    }

    const items = Math.floor(r() * 4);
    for (let j = 0; j < items; j++) {
      const feedbackId = j % 2 === 0 ? `fb-${i}-${j}` : `fb.${i}.$${j}`;
      const revisions = r() < 0.25 ? (r() < 0.3 ? 3 : 2) : 1;
      let last = i;
      let first: Produced | undefined;
      let firstReceivedAt = '';
      for (let rev = 1; rev <= revisions; rev++) {
        const receivedAt = stamp();
        const signals: Record<string, unknown> = {};
        if (r() < 0.6) signals.rating = 1 + Math.floor(r() * 5);
        if (r() < 0.3) signals.thumbs = pick(['up', 'down']);
        if (r() < 0.2) signals.comment = `comment ${i}/${j}/${rev}`;
        if (r() < 0.15) signals.correction = `better answer ${i}`;
        if (r() < 0.25) signals.scores = { helpfulness: Math.round(r() * 100) / 100 };
        if (Object.keys(signals).length === 0) signals.rating = 3;
        const revision = {
          feedbackId,
          revision: rev,
          source: pick(['user', 'judge', 'reviewer'] as const),
          ...signals,
          ratingScale: { min: 1, max: 5 },
          timestamp: new Date(Date.parse(receivedAt) - 50).toISOString(),
          receivedAt,
        };
        const event = feedbackEvent(
          {
            ...revision,
            requestId,
            edit: rev === 1 ? null : { previousRevision: rev - 1 },
          } as FeedbackSubmittedInput,
          project,
        );
        last = i + 1 + rev * 3 + r() * 2;
        emit(last, event, receivedAt);
        if (rev === 1) {
          first = event;
          firstReceivedAt = receivedAt;
        }
        if (rev === revisions) {
          // Scores are stored as [{name, value}] sorted by name (names may hold dots).
          const { scores, ...rest } = revision as typeof revision & { scores?: Record<string, number> };
          expected.feedback[feedbackId] = scores
            ? {
                ...rest,
                scores: Object.keys(scores)
                  .sort()
                  .map((name) => ({ name, value: scores[name] })),
              }
            : rest;
        }
      }
      // A stale first revision re-delivered after its edit: it must not win.
      if (first && revisions > 1 && r() < 0.05) emit(last + 5, first, firstReceivedAt);
    }
    if (expected.generation === undefined && items === 0) truth.delete(`${project}|${requestId}`);
  }
  keyed.sort((a, b) => a.at - b.at);
  return { events: keyed.map((k) => k.event), truth };
}

/** Every difference between the stored examples and the truth (empty = equal). */
export function diffExamples(stored: StoredExample[], truth: Map<string, ExpectedExample>): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const json = (v: unknown) => JSON.stringify(v, (_, x: unknown) => sortKeys(x));
  for (const doc of stored) {
    const id = `${doc.project}|${doc.requestId}`;
    seen.add(id);
    const want = truth.get(id);
    if (!want) {
      out.push(`${id}: unexpected example`);
      continue;
    }
    const wantId = doc.project === 'default' ? doc.requestId : `${doc.project}\u001f${doc.requestId}`;
    if (doc._id !== wantId) out.push(`${id}: _id ${JSON.stringify(doc._id)}`);
    if (json(doc.generation) !== json(want.generation))
      out.push(`${id}: generation ${json(doc.generation)} != ${json(want.generation)}`);
    const latest = latestByFeedbackId(doc);
    if (json(latest) !== json(want.feedback))
      out.push(`${id}: feedback ${json(latest)} != ${json(want.feedback)}`);
    if (doc.firstSeenAt.getTime() !== want.firstSeenAt)
      out.push(
        `${id}: firstSeenAt ${doc.firstSeenAt.toISOString()} != ${new Date(want.firstSeenAt).toISOString()}`,
      );
  }
  for (const id of truth.keys()) if (!seen.has(id)) out.push(`${id}: missing`);
  return out;
}

function sortKeys(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
