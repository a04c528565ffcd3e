/**
 * Acting on results, end to end: the six services on real Kafka and MongoDB, experiments with a
 * decision policy created through the assignment API, traffic through assignment and feedback,
 * verdicts computed by analytics, and the services acting on them. A guardrail breach stops its
 * experiment; a winner stops its experiment and moves `production` to the winning version (actor
 * `decision:<event id>`); a manual move of `production` while an experiment runs blocks the
 * promotion (recorded in the audit trail); replaying the decisions topic changes nothing.
 */
import { call } from '@llmops/demo';
import { readTopicToEnd, expectEventually, testInfra } from '@llmops/testing';
import { TOPICS, topicName } from '@llmops/contracts';
import { Kafka, logLevel } from 'kafkajs';
import { mongo as mongodb } from 'mongoose';
import type { ApiKey } from '../support/keys';
import { type RunningPlatform, startAllServices } from '../support/service-process';

const PROJECT = 'decisions';

interface Experiment {
  key: string;
  status: string;
  revision: number;
}
interface Alias {
  hash: string;
}
interface HistoryEntry {
  rev: number;
  from: string | null;
  to: string;
  actor: string;
}
interface AuditRecord {
  id: string;
  actor: string;
  action: string;
  resource: string;
  details?: Record<string, unknown>;
}
interface BatchAnswer {
  rejected?: Array<{ index: number; code: string }>;
}

/** A traffic shape: the rating and latency of the i-th generation of an arm. */
type Shape = (arm: string, i: number) => { rating: number; latencyMs: number };

/** Equal ratings; B three times as slow as A (guardrail: at most 10% slower). */
const slowTreatment: Shape = (arm, i) => ({
  rating: [3, 4, 3, 4, 5, 2][i % 6],
  latencyMs: (arm === 'B' ? 1_500 : 500) + (i % 5) * 10,
});
/** B rated far higher than A, same latency. */
const betterTreatment: Shape = (arm, i) => ({
  rating: arm === 'B' ? [4, 5, 5, 4, 5][i % 5] : [1, 2, 3, 2, 1][i % 5],
  latencyMs: 500 + (i % 5) * 10,
});

describe('decisions: automatic stop and guarded promotion', () => {
  const infra = testInfra();
  let platform: RunningPlatform;
  let key: ApiKey;
  let mongo: mongodb.MongoClient;
  const url = (name: Parameters<RunningPlatform['url']>[0]) => platform.url(name);
  const as = <T>(method: string, u: string, body?: unknown) =>
    call<T>(method, u, { key: key.key, ...(body === undefined ? {} : { body }) });

  const decisionGroups = () => [`${infra.id}-registry-promotion`, `${infra.id}-assignment-decisions`];

  async function register(prompt: string, count: number): Promise<string[]> {
    const hashes: string[] = [];
    for (let i = 1; i <= count; i++) {
      const v = await as<{ hash: string }>('POST', `${url('registry')}/v1/prompts/${prompt}/versions`, {
        spec: { template: `${prompt} ${i}: {text}`, model: 'gpt-4o-mini' },
      });
      hashes.push(v.hash);
    }
    return hashes;
  }

  const moveProduction = (prompt: string, hash: string) =>
    as('PUT', `${url('registry')}/v1/prompts/${prompt}/aliases/production`, { ref: hash });
  const production = async (prompt: string) =>
    (await as<Alias>('GET', `${url('registry')}/v1/prompts/${prompt}/aliases/production`)).hash;
  const history = async (prompt: string) =>
    (
      await as<{ items: HistoryEntry[] }>(
        'GET',
        `${url('registry')}/v1/prompts/${prompt}/aliases/production/history?limit=100`,
      )
    ).items;
  const experiment = (exp: string) => as<Experiment>('GET', `${url('assignment')}/v1/experiments/${exp}`);
  const audit = async () =>
    (await as<{ items: AuditRecord[] }>('GET', `${url('identity')}/v1/audit?project=${PROJECT}&limit=100`))
      .items;

  async function createAndStart(exp: string, prompt: string, hashes: string[], decision: unknown) {
    await as('POST', `${url('assignment')}/v1/experiments`, {
      key: exp,
      description: `decisions e2e: ${exp}`,
      arms: [
        { name: 'A', weight: 0.5, prompt: { name: prompt, ref: hashes[0] } },
        { name: 'B', weight: 0.5, prompt: { name: prompt, ref: hashes[1] } },
      ],
      decision,
    });
    await as('POST', `${url('assignment')}/v1/experiments/${exp}/start`, {});
  }

  /** Posts an ingestion batch; items of an experiment feedback has not learned yet are sent again. */
  async function ingest(path: string, items: unknown[]): Promise<void> {
    let pending = items;
    await expectEventually(
      async () => {
        const answer = await as<BatchAnswer>('POST', `${url('feedback')}${path}`, { items: pending });
        const rejected = answer.rejected ?? [];
        expect(rejected.filter((r) => r.code !== 'experiment_not_found')).toEqual([]);
        pending = rejected.map((r) => pending[r.index]);
        expect(pending).toHaveLength(0);
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
  }

  const sent = new Map<string, number>();
  /** `users` more users of `exp`: assigned, each with one generation and one rating. */
  async function traffic(exp: string, users: number, shape: Shape): Promise<void> {
    const start = sent.get(exp) ?? 0;
    sent.set(exp, start + users);
    const ids = Array.from({ length: users }, (_, i) => `${exp}-user-${start + i}`);
    const assigned = await as<{ items: Array<{ arm: string; prompt: unknown; inExperiment: boolean }> }>(
      'POST',
      `${url('assignment')}/v1/assign/batch`,
      { items: ids.map((userId) => ({ experiment: exp, userId })) },
    );
    const generations: unknown[] = [];
    const feedback: unknown[] = [];
    assigned.items.forEach((a, i) => {
      if (!a.inExperiment) return;
      const userId = ids[i];
      const requestId = `req-${userId}`;
      const { rating, latencyMs } = shape(a.arm, start + i);
      generations.push({
        requestId,
        experiment: exp,
        arm: a.arm,
        userId,
        prompt: a.prompt,
        model: 'gpt-4o-mini',
        input: 'text',
        output: `output for ${userId}`,
        latencyMs,
        usage: { promptTokens: 100, completionTokens: 20 },
        costUsd: 0.0001,
      });
      feedback.push({ requestId, userId, rating, source: 'user' });
    });
    await ingest('/v1/generations/batch', generations);
    await ingest('/v1/feedback/batch', feedback);
  }

  /** Until every consumer group acting on decisions has committed the end of the decisions topic. */
  async function decisionsApplied(): Promise<void> {
    const kafka = new Kafka({
      brokers: infra.kafkaBrokers.split(','),
      clientId: `${infra.id}-decisions-e2e`,
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    const topic = topicName(TOPICS.experimentDecisions, infra.topicPrefix);
    try {
      await expectEventually(
        async () => {
          const ends = await admin.fetchTopicOffsets(topic);
          for (const groupId of decisionGroups()) {
            const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
            for (const end of ends) {
              const at = committed.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
              expect({ groupId, partition: end.partition, at: Math.max(Number(at), 0) }).toEqual({
                groupId,
                partition: end.partition,
                at: Number(end.high),
              });
            }
          }
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );
    } finally {
      await admin.disconnect();
    }
  }

  beforeAll(async () => {
    platform = await startAllServices(infra, {
      analytics: { ANALYTICS_DECISION_INTERVAL_MS: '1000' },
      assignment: { ASSIGNMENT_DECISIONS_CONSUMER_GROUP: `${infra.id}-assignment-decisions` },
    });
    await platform.identity.createProject(PROJECT, 'Decisions end to end');
    key = await platform.identity.createKey(PROJECT, {
      name: 'decisions e2e',
      scopes: [
        'prompts:read',
        'prompts:write',
        'prompts:promote',
        'experiments:read',
        'experiments:write',
        'assign',
        'ingest',
        'results:read',
        'admin',
      ],
    });
    mongo = await mongodb.MongoClient.connect(infra.mongoBaseUri);
  }, 180_000);

  afterAll(async () => {
    await mongo?.close();
    await platform?.stop('SIGTERM');
  });

  it('stops on a guardrail breach, promotes a winner, refuses a promotion after a manual move, and a replay changes nothing', async () => {
    const [g1, g2] = await register('guarded', 2);
    const [s1, s2] = await register('summarizer', 2);
    const [w1, w2, w3] = await register('writer', 3);
    await moveProduction('summarizer', s1);
    await moveProduction('writer', w1);

    await createAndStart('latency-guard', 'guarded', [g1, g2], {
      primary: 'rating',
      direction: 'increase',
      guardrails: [{ metric: 'latencyMs', maxRelativeIncrease: 0.1 }],
      autoStop: { onGuardrailBreach: true },
    });
    const promote = { primary: 'rating', direction: 'increase', autoPromote: { alias: 'production' } };
    await createAndStart('promote-winner', 'summarizer', [s1, s2], promote);
    await createAndStart('blocked-winner', 'writer', [w1, w2], promote);

    // Once the registry holds where `production` pointed when the experiment started, someone moves it.
    const promotions = mongo.db(`${infra.dbName}_registry`).collection('experiment_promotions');
    await expectEventually(async () =>
      expect(await promotions.findOne({ project: PROJECT, experimentKey: 'blocked-winner' })).toMatchObject({
        expectedHash: w1,
      }),
    );
    await moveProduction('writer', w3);

    const shapes: Record<string, Shape> = {
      'latency-guard': slowTreatment,
      'promote-winner': betterTreatment,
      'blocked-winner': betterTreatment,
    };
    await expectEventually(
      async () => {
        const running: string[] = [];
        for (const exp of Object.keys(shapes)) {
          if ((await experiment(exp)).status === 'running') running.push(exp);
        }
        for (const exp of running) await traffic(exp, 40, shapes[exp]);
        expect(running).toEqual([]);
      },
      { timeoutMs: 240_000, intervalMs: 1_000 },
    );

    // A winner moved `production` to its version, with the decision as the actor.
    await expectEventually(async () => expect(await production('summarizer')).toBe(s2));
    const [promotion] = await history('summarizer');
    expect(promotion).toMatchObject({
      from: s1,
      to: s2,
      actor: expect.stringMatching(/^decision:/) as unknown,
    });
    // The manual move stands: the promotion was refused and recorded.
    expect(await production('writer')).toBe(w3);
    await expectEventually(async () => {
      const records = await audit();
      const stops = records.filter((r) => r.action === 'experiment.stopped');
      expect(stops.map((r) => r.resource).sort()).toEqual([
        'blocked-winner',
        'latency-guard',
        'promote-winner',
      ]);
      for (const stop of stops) expect(stop.actor).toMatch(/^decision:/);
      expect(records.filter((r) => r.action === 'alias.promotion-refused')).toEqual([
        expect.objectContaining({
          resource: 'writer/production',
          details: expect.objectContaining({
            experiment: 'blocked-winner',
            reason: 'alias-moved',
            expected: w1,
            actual: w3,
            winner: w2,
          }) as unknown,
        }),
      ]);
      expect(records.find((r) => r.action === 'alias.moved' && r.actor === promotion.actor)).toMatchObject({
        resource: 'summarizer/production',
      });
    });
    await decisionsApplied();

    // Replay the decisions topic: every decision again, in order.
    const state = async () => ({
      experiments: await Promise.all(Object.keys(shapes).map(experiment)),
      summarizer: await history('summarizer'),
      writer: await history('writer'),
      decisionAudit: (await audit())
        .filter((r) => r.actor.startsWith('decision:'))
        .map((r) => r.id)
        .sort(),
    });
    const before = await state();
    const topic = topicName(TOPICS.experimentDecisions, infra.topicPrefix);
    const decisions = await readTopicToEnd(infra.kafkaBrokers, topic);
    expect(decisions.length).toBeGreaterThanOrEqual(3);
    // Each experiment stopped on the verdict it should: the stop's actor names the decision event.
    const verdicts = new Map(
      decisions.map((d) => {
        const event = JSON.parse(String(d.value)) as { id: string; data: { verdict: string } };
        return [`decision:${event.id}`, event.data.verdict];
      }),
    );
    const stoppedBy = (await audit())
      .filter((r) => r.action === 'experiment.stopped')
      .map((r) => [r.resource, verdicts.get(r.actor)]);
    expect(Object.fromEntries(stoppedBy)).toEqual({
      'latency-guard': 'guardrail-breach',
      'promote-winner': 'winner',
      'blocked-winner': 'winner',
    });
    const kafka = new Kafka({ brokers: infra.kafkaBrokers.split(','), logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({
        topic,
        acks: -1,
        messages: decisions.map((d) => ({ key: d.key, value: d.value, headers: d.headers })),
      });
    } finally {
      await producer.disconnect();
    }
    await decisionsApplied();
    expect(await state()).toEqual(before);
  }, 480_000);
});
