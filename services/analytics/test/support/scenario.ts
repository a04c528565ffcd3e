/**
 * Test support: a deterministic mixed event stream (exposures, generations, feedback with edits,
 * duplicates and missing arms) and its ground truth, computed independently of the service's code
 * (plain loops over the produced events, no shared helpers).
 */
import {
  createEvent,
  EVENT_TYPES,
  serializeEvent,
  TOPICS,
  topicName,
  type FeedbackSubmittedInput,
} from '@llmops/contracts';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { ensureTopics } from '@llmops/platform';
import { groupProgress, sendInOrder } from '@llmops/testing';

export interface Produced {
  topic: 'x' | 'g' | 'f' | 'e';
  key: string;
  value: string;
}

export interface ArmTruth {
  users: Set<string>;
  generations: number;
  costSum: number;
  promptTokens: number;
  completionTokens: number;
  latencies: number[];
  ratings: number[];
  thumbsUp: number;
  thumbsDown: number;
  scores: Record<string, number[]>;
  comments: number;
  corrections: number;
}

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

const HASH = 'a'.repeat(64);
const SRC = { source: '/llmops/test' };

export function experimentEvent(
  key: string,
  arms: Array<{ name: string; weight: number }>,
  control = arms[0].name,
  revision = 1,
  status: 'running' | 'stopped' = 'running',
  project?: string,
): Produced {
  const t = '2024-01-01T00:00:00.000Z';
  const ev = createEvent(
    EVENT_TYPES.experimentCreated,
    {
      experiment: {
        key,
        description: 'test',
        status,
        phase: 1,
        seed: `${key}:s1`,
        hashVersion: 1,
        trafficAllocation: 1,
        control,
        arms: arms.map((a) => ({ ...a, prompt: { name: 'p', ref: 'production', hash: HASH } })),
        revision,
        createdAt: t,
        updatedAt: t,
      },
      changedAt: new Date().toISOString(),
    },
    { ...SRC, project },
  );
  return { topic: 'e', key: project ? `${project}/${key}` : key, value: serializeEvent(ev) };
}

export function exposureEvent(
  exp: string,
  arm: string,
  userId: string,
  at: Date,
  project?: string,
): Produced {
  const ev = createEvent(
    EVENT_TYPES.exposure,
    {
      experiment: exp,
      phase: 1,
      arm,
      userId,
      prompt: { name: 'p', hash: HASH },
      hashVersion: 1,
      reason: 'hash',
      assignedAt: at.toISOString(),
    },
    { ...SRC, project },
  );
  return { topic: 'x', key: `${exp}:${userId}`, value: serializeEvent(ev) };
}

export function generationEvent(
  requestId: string,
  exp: string | undefined,
  arm: string | undefined,
  at: Date,
  latencyMs: number,
  costUsd: number,
  tokens: [number, number],
  project?: string,
): Produced {
  const ev = createEvent(
    EVENT_TYPES.generationLogged,
    {
      requestId,
      ...(exp ? { experiment: exp } : {}),
      ...(arm ? { arm } : {}),
      model: 'm',
      output: 'ok',
      latencyMs,
      costUsd,
      usage: { promptTokens: tokens[0], completionTokens: tokens[1] },
      timestamp: at.toISOString(),
      receivedAt: at.toISOString(),
    },
    { ...SRC, project },
  );
  return { topic: 'g', key: requestId, value: serializeEvent(ev) };
}

export function feedbackEvent(
  data: Omit<FeedbackSubmittedInput, 'source' | 'timestamp' | 'receivedAt'> & { at: Date; receivedAt?: Date },
  project?: string,
): Produced {
  const { at, receivedAt = at, ...rest } = data;
  const ev = createEvent(
    EVENT_TYPES.feedbackSubmitted,
    { ...rest, source: 'user', timestamp: at.toISOString(), receivedAt: receivedAt.toISOString() },
    { ...SRC, project },
  );
  return { topic: 'f', key: data.requestId, value: serializeEvent(ev) };
}

interface FeedbackRev {
  rating?: number;
  thumbs?: 'up' | 'down';
  scores?: Record<string, number>;
  comment?: string;
  correction?: string;
}

export interface MixedScenario {
  events: Produced[];
  truth: Map<string, ArmTruth>;
  /** Feedback events (first submissions) that may be re-sent as duplicates. */
  feedbackFirsts: Produced[];
}

function emptyTruth(): ArmTruth {
  return {
    users: new Set(),
    generations: 0,
    costSum: 0,
    promptTokens: 0,
    completionTokens: 0,
    latencies: [],
    ratings: [],
    thumbsUp: 0,
    thumbsDown: 0,
    scores: {},
    comments: 0,
    corrections: 0,
  };
}

/**
 * About `total` events for experiment `exp` (arms A/B): exposures with repeats, generations,
 * feedback (10% naming no arm: joined through the generation), 10% edits, 5% duplicates.
 */
export function mixedScenario(exp: string, total: number, seed = 42): MixedScenario {
  const r = rng(seed);
  const arms = ['control', 'treatment'];
  const events: Produced[] = [
    experimentEvent(
      exp,
      arms.map((name) => ({ name, weight: 1 })),
    ),
  ];
  const feedbackFirsts: Produced[] = [];
  // Final revision per feedbackId, for the ground truth.
  const finalFeedback = new Map<string, { arm: string; rev: FeedbackRev }>();
  const truth = new Map<string, ArmTruth>(arms.map((a) => [a, emptyTruth()]));
  const now = Date.now();
  let users = 0;
  let req = 0;
  let fb = 0;
  const userArm = new Map<string, string>();
  const randomRev = (): FeedbackRev => {
    const rev: FeedbackRev = {};
    if (r() < 0.8) rev.rating = 1 + Math.floor(r() * 5);
    if (r() < 0.5) rev.thumbs = r() < 0.6 ? 'up' : 'down';
    if (r() < 0.5)
      rev.scores = { relevance: Math.round(r() * 1000) / 1000, 'tone.friendly': Math.round(r() * 100) / 100 };
    if (r() < 0.2) rev.comment = 'c';
    if (r() < 0.1) rev.correction = 'fix';
    if (!rev.rating && !rev.thumbs && !rev.scores && !rev.comment && !rev.correction) rev.rating = 3;
    return rev;
  };
  while (events.length < total) {
    // Live-like event times (last 3 minutes): a batch touches few minute buckets, as in production.
    const at = new Date(now - Math.floor(r() * 3 * 60_000));
    const roll = r();
    if (roll < 0.3 || users === 0) {
      // new or returning user exposure
      const userId = users > 0 && r() < 0.3 ? `u${Math.floor(r() * users)}` : `u${users++}`;
      let arm = userArm.get(userId);
      if (!arm) {
        arm = r() < 0.5 ? 'control' : 'treatment';
        userArm.set(userId, arm);
      }
      events.push(exposureEvent(exp, arm, userId, at));
      truth.get(arm)!.users.add(userId);
      continue;
    }
    const userId = `u${Math.floor(r() * users)}`;
    const arm = userArm.get(userId)!;
    const requestId = `${exp}-r${req++}`;
    const latency = Math.round(50 + r() * 2000);
    const cost = Math.round(r() * 1e6) / 1e9;
    const tokens: [number, number] = [Math.floor(r() * 500), Math.floor(r() * 300)];
    events.push(generationEvent(requestId, exp, arm, at, latency, cost, tokens));
    const t = truth.get(arm)!;
    t.generations++;
    t.costSum += cost;
    t.promptTokens += tokens[0];
    t.completionTokens += tokens[1];
    t.latencies.push(latency);
    if (r() < 0.6) {
      const feedbackId = `${exp}-f${fb++}`;
      const named = r() >= 0.1;
      const rev1 = randomRev();
      const base = { feedbackId, requestId, ...(named ? { experiment: exp, arm } : {}), at };
      const first = feedbackEvent({ ...base, ...rev1, revision: 1, edit: null });
      events.push(first);
      feedbackFirsts.push(first);
      let final = rev1;
      if (r() < 0.05) events.push(first); // duplicate delivery of the same feedbackId/revision
      if (r() < 0.1) {
        const rev2 = randomRev();
        events.push(feedbackEvent({ ...base, ...rev2, revision: 2, edit: { previousRevision: 1 } }));
        final = rev2;
        if (r() < 0.3) events.push(first); // a stale revision 1 after the edit: ignored
      }
      finalFeedback.set(feedbackId, { arm, rev: final });
    }
  }
  for (const { arm, rev } of finalFeedback.values()) {
    const t = truth.get(arm)!;
    if (rev.rating !== undefined) t.ratings.push(rev.rating);
    if (rev.thumbs === 'up') t.thumbsUp++;
    if (rev.thumbs === 'down') t.thumbsDown++;
    for (const [name, v] of Object.entries(rev.scores ?? {})) (t.scores[name] ??= []).push(v);
    if (rev.comment) t.comments++;
    if (rev.correction) t.corrections++;
  }
  return { events, truth, feedbackFirsts };
}

export function topicsFor(prefix: string): Record<Produced['topic'], string> {
  return {
    x: topicName(TOPICS.exposures, prefix),
    g: topicName(TOPICS.generations, prefix),
    f: topicName(TOPICS.feedback, prefix),
    e: topicName(TOPICS.experiments, prefix),
  };
}

export async function connectProducer(brokers: string): Promise<{ kafka: Kafka; producer: Producer }> {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  const kafka = new Kafka({
    brokers: brokers.split(','),
    clientId: 'analytics-test',
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  return { kafka, producer };
}

/** Sends in order, in chunks (order within a topic/partition is preserved). */
export async function produce(
  producer: Producer,
  prefix: string,
  events: Produced[],
  chunk = 2_000,
): Promise<void> {
  const topics = topicsFor(prefix);
  await sendInOrder(
    producer,
    events.map((e) => ({ topic: topics[e.topic], key: e.key, value: e.value })),
    chunk,
  );
}

/**
 * The analytics topics (exposures, generations, feedback, the compacted experiments topic and the
 * dead letters), created the way the services create theirs: kafkajs' own leader wait gives up on
 * the UNKNOWN_TOPIC_OR_PARTITION a just-created topic may answer with, `ensureTopics` waits it out.
 */
export async function createTopics(kafka: Kafka, prefix: string, partitions = 6): Promise<void> {
  const t = topicsFor(prefix);
  await ensureTopics(kafka, [
    { name: t.x, partitions },
    { name: t.g, partitions },
    { name: t.f, partitions },
    { name: t.e, partitions, compacted: true },
    { name: topicName(TOPICS.deadLetter, prefix), partitions },
  ]);
}

/** Total lag of the group over the analytics topics (0 = everything committed). */
export async function groupLag(kafka: Kafka, groupId: string, prefix: string): Promise<number> {
  return (await groupProgress(kafka, groupId, Object.values(topicsFor(prefix)))).lag;
}

function sum(xs: number[]): number {
  return xs.reduce((s, x) => s + x, 0);
}

/** Compares a results-API arm with the truth; returns the list of mismatches (empty = equal). */
export function diffArm(name: string, arm: Record<string, unknown>, t: ArmTruth): string[] {
  const out: string[] = [];
  const eq = (what: string, got: unknown, want: number, rel = 0) => {
    const g = typeof got === 'number' ? got : NaN;
    const ok = rel === 0 ? g === want : Math.abs(g - want) <= rel * Math.max(1, Math.abs(want));
    if (!ok) out.push(`${name}.${what}: got ${String(got)} want ${want}`);
  };
  const a = arm as {
    exposures: number;
    generations: number;
    costUsd: number;
    tokens: { prompt: number; completion: number };
    rating: { n: number; mean: number | null };
    thumbs: { up: number; down: number };
    scores: Record<string, { n: number; mean: number | null }>;
    comments: number;
    corrections: number;
  };
  eq('exposures', a.exposures, t.users.size);
  eq('generations', a.generations, t.generations);
  eq('costUsd', a.costUsd, t.costSum, 1e-9);
  eq('tokens.prompt', a.tokens.prompt, t.promptTokens);
  eq('tokens.completion', a.tokens.completion, t.completionTokens);
  eq('rating.n', a.rating.n, t.ratings.length);
  if (t.ratings.length > 0) eq('rating.mean', a.rating.mean, sum(t.ratings) / t.ratings.length, 1e-12);
  eq('thumbs.up', a.thumbs.up, t.thumbsUp);
  eq('thumbs.down', a.thumbs.down, t.thumbsDown);
  for (const [score, xs] of Object.entries(t.scores)) {
    eq(`scores.${score}.n`, a.scores[score]?.n, xs.length);
    eq(`scores.${score}.mean`, a.scores[score]?.mean, sum(xs) / xs.length, 1e-9);
  }
  eq('comments', a.comments, t.comments);
  eq('corrections', a.corrections, t.corrections);
  return out;
}
