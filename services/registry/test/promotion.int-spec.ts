/**
 * Automatic promotion of winners against real Kafka and MongoDB (FerretDB): the repository's
 * compare-and-set move (also under concurrency), and the promotion consumer fed through the
 * experiments and decisions topics: a winner moves the alias (actor `decision:<event id>`, the
 * alias-moved event and audit record published), a manual move in between makes it refuse (alias
 * unchanged, refusal recorded, audited and counted), and replaying both topics changes nothing.
 */
import {
  createEvent,
  DEFAULT_PROJECT,
  EVENT_SOURCES,
  EVENT_TYPES,
  type ExperimentDecisionDataInput,
  experimentDecisionEventId,
  type ExperimentSnapshot,
  experimentTopicKey,
  serializeEvent,
  TOPICS,
  topicName,
} from '@llmops/contracts';
import { expectEventually, testInfra } from '@llmops/testing';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { registryTopics } from '../src/outbox/registry-topics';
import { promotionGroup } from '../src/promotion/promotion.consumer';
import { getModelToken } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { AliasMoveRepository } from '../src/persistence/alias-move.repository';
import { PromotionRepository } from '../src/persistence/promotion.repository';
import { PromotionDocument } from '../src/persistence/promotion.schema';
import { type RegistryTestApp, startRegistry } from './support/registry-app';
import { readAll } from './support/topic-reader';

const infra = testInfra();
let r: RegistryTestApp;
let producer: Producer;
const kafka = new Kafka({
  brokers: infra.kafkaBrokers.split(','),
  clientId: `${infra.id}-promotion-test`,
  logLevel: logLevel.NOTHING,
});
const topic = (base: string) => topicName(base, infra.topicPrefix);

interface AliasBody {
  hash: string;
  version: number;
}
interface HistoryBody {
  items: Array<{ rev: number; from: string | null; to: string; actor: string; movedAt: string }>;
}

/** Registers `count` versions of `name`; their hashes, version 1 first. */
async function versions(name: string, count: number): Promise<string[]> {
  const hashes: string[] = [];
  for (let i = 1; i <= count; i++) {
    const res = await r.request<{ hash: string }>('POST', `/v1/prompts/${name}/versions`, {
      spec: { template: `${name} v${i}: {text}`, model: 'gpt-4o-mini' },
    });
    expect(res.status).toBe(201);
    hashes.push(res.body.hash);
  }
  return hashes;
}

const moveAlias = (name: string, alias: string, ref: string) =>
  r.request<AliasBody>('PUT', `/v1/prompts/${name}/aliases/${alias}`, { ref });
const aliasOf = (name: string, alias: string) =>
  r.request<AliasBody>('GET', `/v1/prompts/${name}/aliases/${alias}`);
const historyOf = async (name: string, alias: string) =>
  (await r.request<HistoryBody>('GET', `/v1/prompts/${name}/aliases/${alias}/history`)).body.items;

function experiment(key: string, prompt: string, hashes: string[], alias = 'production'): ExperimentSnapshot {
  const now = new Date().toISOString();
  return {
    key,
    description: '',
    status: 'running',
    phase: 1,
    seed: key,
    hashVersion: 1,
    trafficAllocation: 1,
    control: 'A',
    arms: [
      { name: 'A', weight: 0.5, prompt: { name: prompt, ref: '1', hash: hashes[0] } },
      { name: 'B', weight: 0.5, prompt: { name: prompt, ref: '2', hash: hashes[1] } },
    ],
    decision: {
      primary: 'rating',
      direction: 'increase',
      alpha: 0.05,
      guardrails: [],
      autoStop: { onGuardrailBreach: true, onDecision: false },
      autoPromote: { alias },
    },
    revision: 2,
    createdAt: now,
    updatedAt: now,
  };
}

async function publishRunning(snapshot: ExperimentSnapshot): Promise<void> {
  const event = createEvent(
    EVENT_TYPES.experimentStatusChanged,
    { experiment: snapshot, changedAt: snapshot.updatedAt, previousStatus: 'draft' },
    { source: EVENT_SOURCES.assignment, project: DEFAULT_PROJECT },
  );
  await producer.send({
    topic: topic(TOPICS.experiments),
    acks: -1,
    messages: [{ key: experimentTopicKey(snapshot.key), value: serializeEvent(event) }],
  });
}

/** A `winner` decision for arm B of `snapshot`, with its deterministic id. */
function winnerDecision(snapshot: ExperimentSnapshot) {
  const arm = snapshot.arms[1];
  const data: ExperimentDecisionDataInput = {
    experimentKey: snapshot.key,
    phase: snapshot.phase,
    verdict: 'winner',
    previousVerdict: null,
    winner: { arm: arm.name, prompt: { name: arm.prompt.name, hash: arm.prompt.hash } },
    breaches: [],
    control: snapshot.control,
    alpha: 0.05,
    primary: [],
    guardrails: [],
    policy: snapshot.decision!,
    evaluatedAt: new Date().toISOString(),
  };
  const id = experimentDecisionEventId(DEFAULT_PROJECT, { ...data, winner: data.winner ?? null });
  return createEvent(EVENT_TYPES.experimentDecision, data, {
    source: EVENT_SOURCES.analytics,
    id,
    project: DEFAULT_PROJECT,
  });
}

async function publishDecision(event: ReturnType<typeof winnerDecision>): Promise<void> {
  await producer.send({
    topic: topic(TOPICS.experimentDecisions),
    acks: -1,
    messages: [{ key: experimentTopicKey(event.data.experimentKey), value: serializeEvent(event) }],
  });
}

/** Waits until the promotion group has committed everything on both of its topics. */
async function promotionConsumerCaughtUp(): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await expectEventually(
      async () => {
        for (const t of [topic(TOPICS.experiments), topic(TOPICS.experimentDecisions)]) {
          const ends = await admin.fetchTopicOffsets(t);
          const [committed] = await admin.fetchOffsets({
            groupId: promotionGroup(r.config),
            topics: [t],
          });
          for (const end of ends) {
            const done = committed.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
            expect(Number(done) === Number(end.high) || end.high === '0').toBe(true);
          }
        }
      },
      { timeoutMs: 30_000 },
    );
  } finally {
    await admin.disconnect();
  }
}

async function metric(name: string, labels: string): Promise<number> {
  const text = (await r.request<string>('GET', '/metrics')).raw;
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.split(' ').pop()) : 0;
}

beforeAll(async () => {
  r = await startRegistry(infra);
  producer = kafka.producer();
  await producer.connect();
});

afterAll(async () => {
  await producer?.disconnect();
  await r?.close();
});

describe('AliasMoveRepository.compareAndMove', () => {
  const move = (name: string, alias: string, to: string, toVersion: number) => ({
    project: DEFAULT_PROJECT,
    name,
    alias,
    to,
    toVersion,
    actor: 'decision:test',
    movedAt: new Date(),
  });

  it('moves only from the expected rev, leaves an alias at the target alone, and treats rev 0 as "absent"', async () => {
    const repo = r.app.get(AliasMoveRepository);
    const [v1, v2, v3] = await versions('cas-basic', 3);
    expect((await repo.compareAndMove(move('cas-basic', 'staging', v1, 1), 0)).outcome).toBe('moved');
    // 0 expects no alias; it exists now.
    const absent = await repo.compareAndMove(move('cas-basic', 'staging', v2, 2), 0);
    expect(absent).toMatchObject({ outcome: 'refused', current: { to: v1, rev: 1 } });
    const wrong = await repo.compareAndMove(move('cas-basic', 'staging', v2, 2), 2);
    expect(wrong).toMatchObject({ outcome: 'refused', current: { to: v1 } });
    const moved = await repo.compareAndMove(move('cas-basic', 'staging', v2, 2), 1);
    expect(moved).toMatchObject({ outcome: 'moved', move: { rev: 2, from: v1, fromVersion: 1, to: v2 } });
    expect(await repo.compareAndMove(move('cas-basic', 'staging', v2, 2), 1)).toMatchObject({
      outcome: 'unchanged',
      current: { rev: 2, to: v2 },
    });
    expect((await aliasOf('cas-basic', 'staging')).body).toMatchObject({ hash: v2, version: 2 });
    // v3 and back to v2: the same version as at rev 2, but not the same rev.
    expect((await moveAlias('cas-basic', 'staging', v3)).status).toBe(200);
    expect((await moveAlias('cas-basic', 'staging', v2)).status).toBe(200);
    const back = await repo.compareAndMove(move('cas-basic', 'staging', v1, 1), 2);
    expect(back).toMatchObject({ outcome: 'refused', current: { rev: 4, to: v2 } });
  });

  it('asOf gives the move with the highest rev made at or before a time, null before the first', async () => {
    const repo = r.app.get(AliasMoveRepository);
    const [v1, v2] = await versions('as-of', 2);
    const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
    const logged = (rev: number, to: string, toVersion: number, movedAt: Date) =>
      repo.insert({
        ...move('as-of', 'production', to, toVersion),
        rev,
        from: null,
        fromVersion: null,
        movedAt,
      });
    expect(await logged(1, v1, 1, t(10))).toBe('inserted');
    expect(await logged(2, v2, 2, t(20))).toBe('inserted');
    expect(await repo.asOf(DEFAULT_PROJECT, 'as-of', 'production', t(9))).toBeNull();
    expect(await repo.asOf(DEFAULT_PROJECT, 'as-of', 'production', t(10))).toMatchObject({ rev: 1, to: v1 });
    expect(await repo.asOf(DEFAULT_PROJECT, 'as-of', 'production', t(19))).toMatchObject({ rev: 1, to: v1 });
    expect(await repo.asOf(DEFAULT_PROJECT, 'as-of', 'production', t(20))).toMatchObject({ rev: 2, to: v2 });
  });

  it('of concurrent moves from the same expected target, exactly one moves the alias', async () => {
    const repo = r.app.get(AliasMoveRepository);
    const [v1, v2, v3] = await versions('cas-race', 3);
    expect((await moveAlias('cas-race', 'production', v1)).status).toBe(200);
    expect((await aliasOf('cas-race', 'production')).body).toMatchObject({ hash: v1 });
    const targets = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? v2 : v3));
    const results = await Promise.all(
      targets.map((to) => repo.compareAndMove(move('cas-race', 'production', to, to === v2 ? 2 : 3), 1)),
    );
    const winners = results.filter((x) => x.outcome === 'moved');
    expect(winners).toHaveLength(1);
    const moved = winners[0].outcome === 'moved' ? winners[0].move.to : '';
    results.forEach((result, i) => {
      if (result.outcome === 'moved') return;
      // The winner's target: already there; the other target: the alias is no longer at v1.
      expect(result.outcome).toBe(targets[i] === moved ? 'unchanged' : 'refused');
      expect(result.current?.to).toBe(moved);
    });
    const history = await historyOf('cas-race', 'production');
    expect(history.map((h) => h.rev)).toEqual([2, 1]);
  });
});

describe('the promotion consumer', () => {
  it('a winner moves the alias with the decision as actor; a manual move in between blocks it; replays change nothing', async () => {
    const promotions = r.app.get(PromotionRepository);
    const [a1, a2] = await versions('summarizer', 2);
    const [b1, b2, b3] = await versions('writer', 3);
    expect((await moveAlias('summarizer', 'production', a1)).status).toBe(200);
    expect((await moveAlias('writer', 'production', b1)).status).toBe(200);

    const promoted = experiment('promote-me', 'summarizer', [a1, a2]);
    const blocked = experiment('blocked', 'writer', [b1, b2]);
    await publishRunning(promoted);
    await publishRunning(blocked);
    await expectEventually(async () => {
      expect(await promotions.find(DEFAULT_PROJECT, 'promote-me', 1)).toMatchObject({
        promptName: 'summarizer',
        alias: 'production',
        expectedHash: a1,
      });
      expect(await promotions.find(DEFAULT_PROJECT, 'blocked', 1)).toMatchObject({ expectedHash: b1 });
    });

    // Someone moves the second prompt's alias while its experiment runs.
    expect((await moveAlias('writer', 'production', b3)).status).toBe(200);
    const win = winnerDecision(promoted);
    const refused = winnerDecision(blocked);
    await publishDecision(win);
    await publishDecision(refused);

    await expectEventually(async () => {
      expect((await aliasOf('summarizer', 'production')).body).toMatchObject({
        hash: a2,
        version: 2,
      });
      expect(await promotions.find(DEFAULT_PROJECT, 'blocked', 1)).toMatchObject({
        outcome: 'refused',
        reason: 'alias-moved',
        decisionId: refused.id,
        expectedHash: b1,
        actualHash: b3,
        winnerHash: b2,
        auditPublished: true,
      });
    });
    expect(await promotions.find(DEFAULT_PROJECT, 'promote-me', 1)).toMatchObject({
      outcome: 'promoted',
      decisionId: win.id,
    });
    expect((await aliasOf('writer', 'production')).body).toMatchObject({ hash: b3 });
    const [auto] = await historyOf('summarizer', 'production');
    expect(auto).toMatchObject({ rev: 2, from: a1, to: a2, actor: `decision:${win.id}` });

    const { aliases, audit } = registryTopics(r.config);
    const moved = await expectEventually(async () => {
      const events = (await readAll(infra.kafkaBrokers.split(','), aliases)).filter(
        (e) => e.value.data.actor === `decision:${win.id}`,
      );
      expect(events).toHaveLength(1);
      return events;
    });
    expect(moved[0].value.data).toMatchObject({ name: 'summarizer', alias: 'production', from: a1, to: a2 });
    const decisionAudit = async () =>
      (await readAll(infra.kafkaBrokers.split(','), audit)).filter((e) =>
        [`decision:${win.id}`, `decision:${refused.id}`].includes(String(e.value.data.actor)),
      );
    await expectEventually(async () => {
      const records = await decisionAudit();
      expect(records.map((e) => [e.value.data.actor, e.value.data.action]).sort()).toEqual(
        [
          [`decision:${win.id}`, 'alias.moved'],
          [`decision:${refused.id}`, 'alias.promotion-refused'],
        ].sort(),
      );
      expect(
        records.find((e) => e.value.data.action === 'alias.promotion-refused')?.value.data,
      ).toMatchObject({
        resource: 'writer/production',
        details: {
          experiment: 'blocked',
          phase: 1,
          reason: 'alias-moved',
          expected: b1,
          actual: b3,
          winner: b2,
        },
      });
    });
    expect(await metric('llmops_registry_promotion_refusals_total', 'reason="alias-moved"')).toBe(1);
    expect(await metric('llmops_registry_auto_promotions_total', 'outcome="promoted"')).toBe(1);

    // Replay both topics: the same snapshots and decisions again, after the alias of the promoted
    // prompt was rolled back by hand to where the phase started.
    expect((await moveAlias('summarizer', 'production', a1)).status).toBe(200);
    await publishRunning({ ...promoted, revision: 3 });
    await publishRunning(blocked);
    await publishDecision(win);
    await publishDecision(refused);
    await promotionConsumerCaughtUp();

    expect((await aliasOf('summarizer', 'production')).body).toMatchObject({ hash: a1 });
    expect((await aliasOf('writer', 'production')).body).toMatchObject({ hash: b3 });
    expect(await historyOf('summarizer', 'production')).toHaveLength(3);
    expect(await promotions.find(DEFAULT_PROJECT, 'promote-me', 1)).toMatchObject({
      expectedHash: a1,
      outcome: 'promoted',
    });
    expect((await decisionAudit()).length).toBe(2);
    expect(await metric('llmops_registry_promotion_refusals_total', 'reason="alias-moved"')).toBe(1);
    expect(await metric('llmops_registry_auto_promotions_total', 'outcome="promoted"')).toBe(1);
  });
});

describe('the baseline and the compare-and-set', () => {
  const refusedAudit = async (decisionId: string) =>
    (await readAll(infra.kafkaBrokers.split(','), registryTopics(r.config).audit)).filter(
      (e) => e.value.data.actor === `decision:${decisionId}`,
    );

  it('the baseline is the alias as of the phase start: a move made after the start but read later blocks the winner', async () => {
    const promotions = r.app.get(PromotionRepository);
    const [d1, d2, d3] = await versions('late-read', 3);
    expect((await moveAlias('late-read', 'production', d1)).status).toBe(200);
    const [atStart] = await historyOf('late-read', 'production');
    // The phase started right then; the registry reads its snapshot only after a manual move.
    const started = { ...experiment('late-read', 'late-read', [d1, d2]), updatedAt: atStart.movedAt };
    expect((await moveAlias('late-read', 'production', d3)).status).toBe(200);
    await publishRunning(started);
    await expectEventually(async () =>
      expect(await promotions.find(DEFAULT_PROJECT, 'late-read', 1)).toMatchObject({
        expectedHash: d1,
        expectedRev: 1,
        startedAt: new Date(atStart.movedAt),
      }),
    );
    const decision = winnerDecision(started);
    await publishDecision(decision);
    await expectEventually(async () =>
      expect(await promotions.find(DEFAULT_PROJECT, 'late-read', 1)).toMatchObject({
        outcome: 'refused',
        reason: 'alias-moved',
        expectedHash: d1,
        actualHash: d3,
        actualRev: 2,
        auditPublished: true,
      }),
    );
    expect((await aliasOf('late-read', 'production')).body).toMatchObject({ hash: d3 });
  });

  it('an alias moved away and back to the same version during the experiment blocks the winner', async () => {
    const promotions = r.app.get(PromotionRepository);
    const [e1, e2, e3] = await versions('round-trip', 3);
    expect((await moveAlias('round-trip', 'production', e1)).status).toBe(200);
    const started = experiment('round-trip', 'round-trip', [e1, e2]);
    await publishRunning(started);
    await expectEventually(async () =>
      expect(await promotions.find(DEFAULT_PROJECT, 'round-trip', 1)).toMatchObject({
        expectedHash: e1,
        expectedRev: 1,
      }),
    );
    expect((await moveAlias('round-trip', 'production', e3)).status).toBe(200);
    expect((await moveAlias('round-trip', 'production', e1)).status).toBe(200);
    const decision = winnerDecision(started);
    await publishDecision(decision);
    await expectEventually(async () =>
      expect(await promotions.find(DEFAULT_PROJECT, 'round-trip', 1)).toMatchObject({
        outcome: 'refused',
        reason: 'alias-moved',
        expectedHash: e1,
        actualHash: e1,
        actualRev: 3,
        auditPublished: true,
      }),
    );
    expect((await aliasOf('round-trip', 'production')).body).toMatchObject({ hash: e1 });
    expect(await historyOf('round-trip', 'production')).toHaveLength(3);
    const [audit] = await refusedAudit(decision.id);
    expect(audit.value.data).toMatchObject({
      action: 'alias.promotion-refused',
      details: { reason: 'alias-moved', expected: e1, expectedRev: 1, actual: e1, actualRev: 3 },
    });
  });

  it('a winner whose autoPromote alias no client may set is refused (invalid-alias), audited and counted', async () => {
    const promotions = r.app.get(PromotionRepository);
    const moves = r.app.get(AliasMoveRepository);
    const [f1, f2] = await versions('odd-alias', 2);
    const invalid = ['latest', '20260101', 'deadbeef'];
    const before = await metric('llmops_registry_promotion_refusals_total', 'reason="invalid-alias"');
    const decisions: ReturnType<typeof winnerDecision>[] = [];
    for (const alias of invalid) {
      const started = experiment(`odd-${alias}`, 'odd-alias', [f1, f2], alias);
      await publishRunning(started);
      await expectEventually(async () =>
        expect(await promotions.find(DEFAULT_PROJECT, started.key, 1)).toMatchObject({ alias }),
      );
      decisions.push(winnerDecision(started));
    }
    // One without a baseline as well: the invalid alias is the reason given.
    decisions.push(winnerDecision(experiment('odd-unseen', 'odd-alias', [f1, f2], 'latest')));
    for (const decision of decisions) await publishDecision(decision);
    await expectEventually(async () => {
      for (const decision of decisions) {
        expect(await promotions.find(DEFAULT_PROJECT, decision.data.experimentKey, 1)).toMatchObject({
          outcome: 'refused',
          reason: 'invalid-alias',
          decisionId: decision.id,
          auditPublished: true,
        });
      }
    });
    for (const alias of invalid) expect(await moves.current(DEFAULT_PROJECT, 'odd-alias', alias)).toBeNull();
    for (const decision of decisions) {
      expect((await refusedAudit(decision.id)).map((e) => e.value.data.details)).toEqual([
        expect.objectContaining({ reason: 'invalid-alias', winner: f2 }),
      ]);
    }
    expect(await metric('llmops_registry_promotion_refusals_total', 'reason="invalid-alias"')).toBe(
      before + decisions.length,
    );
  });

  it('a baseline stored without its rev stands for the alias as of when it was recorded', async () => {
    const promotions = r.app.get(PromotionRepository);
    const model = r.app.get<Model<PromotionDocument>>(getModelToken(PromotionDocument.name));
    const [g1, g2] = await versions('legacy-kept', 2);
    const [h1, h2, h3] = await versions('legacy-moved', 3);
    expect((await moveAlias('legacy-kept', 'production', g1)).status).toBe(200);
    expect((await moveAlias('legacy-moved', 'production', h1)).status).toBe(200);
    const [kept, moved] = [
      experiment('legacy-kept', 'legacy-kept', [g1, g2]),
      experiment('legacy-moved', 'legacy-moved', [h1, h2]),
    ];
    const recordedAt = new Date();
    for (const [snapshot, expectedHash] of [
      [kept, g1],
      [moved, h1],
    ] as const) {
      await model.collection.insertOne({
        _id: PromotionRepository.idOf(DEFAULT_PROJECT, snapshot.key, 1),
        project: DEFAULT_PROJECT,
        experimentKey: snapshot.key,
        phase: 1,
        promptName: snapshot.arms[0].prompt.name,
        alias: 'production',
        expectedHash,
        recordedAt,
      } as never);
    }
    expect((await moveAlias('legacy-moved', 'production', h3)).status).toBe(200);
    expect((await moveAlias('legacy-moved', 'production', h1)).status).toBe(200);
    await publishDecision(winnerDecision(kept));
    await publishDecision(winnerDecision(moved));
    await expectEventually(async () => {
      expect(await promotions.find(DEFAULT_PROJECT, 'legacy-kept', 1)).toMatchObject({ outcome: 'promoted' });
      expect(await promotions.find(DEFAULT_PROJECT, 'legacy-moved', 1)).toMatchObject({
        outcome: 'refused',
        reason: 'alias-moved',
        actualRev: 3,
      });
    });
    expect((await aliasOf('legacy-kept', 'production')).body).toMatchObject({ hash: g2 });
    expect((await aliasOf('legacy-moved', 'production')).body).toMatchObject({ hash: h1 });
  });

  it('tombstones on either topic are skipped, not dead-lettered', async () => {
    const group = promotionGroup(r.config);
    const topics = [topic(TOPICS.experiments), topic(TOPICS.experimentDecisions)];
    const deadLettered = async () => {
      let total = 0;
      for (const t of topics)
        total += await metric('llmops_dead_letter_messages_total', `group="${group}",topic="${t}"`);
      return total;
    };
    const before = await deadLettered();
    for (const t of topics) {
      await producer.send({
        topic: t,
        acks: -1,
        messages: [{ key: experimentTopicKey('tombstoned'), value: null }],
      });
    }
    await promotionConsumerCaughtUp();
    expect(await deadLettered()).toBe(before);
    const dlq = await readAll(infra.kafkaBrokers.split(','), registryTopics(r.config).deadLetter);
    expect(dlq.filter((e) => e.key === experimentTopicKey('tombstoned'))).toEqual([]);
  });
});

describe('without a baseline', () => {
  it('a winner of a phase never seen running is refused (no-baseline), audited once', async () => {
    const promotions = r.app.get(PromotionRepository);
    const [c1, c2] = await versions('unseen', 2);
    expect((await moveAlias('unseen', 'production', c1)).status).toBe(200);
    const decision = winnerDecision(experiment('never-seen', 'unseen', [c1, c2]));
    await publishDecision(decision);
    await expectEventually(async () =>
      expect(await promotions.find(DEFAULT_PROJECT, 'never-seen', 1)).toMatchObject({
        outcome: 'refused',
        reason: 'no-baseline',
        decisionId: decision.id,
        auditPublished: true,
      }),
    );
    await publishDecision(decision);
    await promotionConsumerCaughtUp();
    expect((await aliasOf('unseen', 'production')).body).toMatchObject({ hash: c1 });
    const refusals = (await readAll(infra.kafkaBrokers.split(','), registryTopics(r.config).audit)).filter(
      (e) => e.value.data.actor === `decision:${decision.id}`,
    );
    expect(refusals.map((e) => e.value.data.action)).toEqual(['alias.promotion-refused']);
    expect(await metric('llmops_registry_promotion_refusals_total', 'reason="no-baseline"')).toBe(1);
  });
});
