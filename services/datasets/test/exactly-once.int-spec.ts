/**
 * Exactly-once effects: the service runs as a child process and is SIGKILLed 3 times, each at a
 * random point while it is consuming (it has committed progress and work is left), as a mixed
 * stream flows (two projects, edits, stale revisions, feedback before its generation, parked
 * feedback, 10% duplicate records). When the group's lag is 0, every example
 * equals the ground truth computed from the produced events. A replay of the whole history in a new
 * group changes nothing, and records sent again leave the ground truth intact.
 */
import { expectEventually, testInfra } from '@llmops/testing';
import type { Kafka, Producer } from 'kafkajs';
import {
  connectProducer,
  createTopics,
  diffExamples,
  exampleView,
  groupLag,
  groupProgress,
  mixedScenario,
  openDatabase,
  produce,
  rng,
  type StoredExample,
} from './support/scenario';
import { consumedEvents, killHard, type ServiceProcess, startService } from './support/service-process';

/** The load: 20,000 events by default (DATASETS_CRASH_EVENTS sets another). */
const EVENTS = Number(process.env.DATASETS_CRASH_EVENTS ?? 20_000);
/** How long the group may take to reach lag 0. */
const SETTLE_MS = 60_000 + EVENTS * 100;
/** How long a (re)started service may take to join the group and commit its first batch. */
const CONSUMING_MS = 180_000;
const KILLS = 3;

/** One kill: what the incarnation committed before it, and what it left (the next one's work). */
interface Kill {
  /** Records committed by the group between this incarnation's start and its kill. */
  advanced: number;
  /** The group's lag right after the kill. */
  lagAtKill: number;
  /** Records this incarnation reported consumed just before the kill (a lower bound). */
  consumedBeforeKill?: number;
}

describe('datasets exactly-once (SIGKILL x3, replay, duplicates)', () => {
  const infra = testInfra();
  const groupId = `datasets-${infra.id}`;
  const env = {
    KAFKA_BROKERS: infra.kafkaBrokers,
    MONGODB_URI: infra.mongoBaseUri,
    MONGODB_DB: infra.dbName,
    KAFKA_TOPIC_PREFIX: infra.topicPrefix,
    DATASETS_CONSUMER_GROUP: groupId,
  };
  const scenario = mixedScenario(EVENTS, 7);
  let kafka: Kafka;
  let producer: Producer;
  let db: Awaited<ReturnType<typeof openDatabase>>;
  let service: ServiceProcess | undefined;
  // Each test builds on the one before: a later test fails at once, rather than waiting out its
  // settle bound on a group nothing consumes, when the earlier one did not get there.
  let historyApplied = false;
  let replaySettled = false;
  const requireEarlier = (done: boolean, what: string) => {
    if (!done) throw new Error(`the earlier test did not ${what}; this one builds on it`);
  };

  beforeAll(async () => {
    ({ kafka, producer } = await connectProducer(infra.kafkaBrokers));
    await createTopics(kafka, infra.topicPrefix);
    db = await openDatabase(infra);
  });

  afterAll(async () => {
    if (service) await killHard(service);
    await producer?.disconnect();
    await db?.close();
  });

  const settle = (group: string) =>
    expectEventually(async () => expect(await groupLag(kafka, group, infra.topicPrefix)).toBe(0), {
      timeoutMs: SETTLE_MS,
      intervalMs: 1_000,
    }).catch((err: unknown) => {
      console.log(service?.output());
      throw err;
    });
  const stored = (): Promise<StoredExample[]> => db.stored();

  it(
    `${EVENTS} events, ${KILLS} kills while consuming: every example equals ground truth`,
    async () => {
      const r = rng(99);
      const total = scenario.events.length;
      // Half the stream before the first start, a quarter before each restart: every incarnation
      // has a backlog to be killed in the middle of.
      const until = [0.5, 0.75, 1].map((f) => Math.round(f * total));
      const kills: Kill[] = [];
      const started = Date.now();
      let sent = 0;
      for (let k = 0; k < KILLS; k++) {
        await produce(producer, infra.topicPrefix, scenario.events.slice(sent, until[k]));
        sent = until[k];
        const before = await groupProgress(kafka, groupId, infra.topicPrefix);
        service = await startService(env);
        // Consuming: the group has committed past where this incarnation started.
        await expectEventually(
          async () =>
            expect((await groupProgress(kafka, groupId, infra.topicPrefix)).committed).toBeGreaterThan(
              before.committed,
            ),
          { timeoutMs: CONSUMING_MS, intervalMs: 50 },
        ).catch((err: unknown) => {
          console.log(service?.output());
          throw err;
        });
        // Then kill it without warning at a random point shortly after.
        await new Promise((res) => setTimeout(res, Math.floor(r() * 500)));
        const consumedBeforeKill = await consumedEvents(service);
        await killHard(service);
        const after = await groupProgress(kafka, groupId, infra.topicPrefix);
        kills.push({
          advanced: after.committed - before.committed,
          lagAtKill: after.lag,
          consumedBeforeKill,
        });
      }
      service = await startService(env);
      await settle(groupId);
      const consumedLast = await consumedEvents(service);
      console.log(
        `[exactly-once] ${total} records, ${scenario.truth.size} examples, kills ${JSON.stringify(kills)}, ` +
          `last incarnation consumed ${consumedLast}: lag 0 after ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      // Every kill hit a consuming service: it had committed progress and left work behind. That is
      // the redelivery this test is about: the next incarnation resumes from the committed offsets,
      // so the batch in flight at the kill (fetched, possibly partly written, not committed) is
      // consumed again. The records consumed per incarnation cannot show it: the counters are read
      // before the kill (a SIGKILLed process answers nothing), so what an incarnation applied in
      // its last moments is never counted.
      expect(kills).toHaveLength(KILLS);
      for (const kill of kills) {
        expect(kill.advanced).toBeGreaterThan(0);
        expect(kill.lagAtKill).toBeGreaterThan(0);
      }
      expect(diffExamples(await stored(), scenario.truth)).toEqual([]);
      historyApplied = true;
    },
    KILLS * (CONSUMING_MS + 30_000) + SETTLE_MS + 60_000,
  );

  it(
    'a replay from the earliest offset in a new group leaves every example unchanged',
    async () => {
      requireEarlier(historyApplied, 'apply the whole history');
      const before = (await stored()).map(exampleView);
      expect(before.length).toBe(scenario.truth.size);
      await killHard(service!);
      const replayGroup = `${groupId}-replay`;
      service = await startService({ ...env, DATASETS_CONSUMER_GROUP: replayGroup });
      await settle(replayGroup);
      replaySettled = true;
      expect((await stored()).map(exampleView)).toEqual(before);
    },
    SETTLE_MS + 60_000,
  );

  it(
    '10% of the records sent again: every example still equals ground truth',
    async () => {
      requireEarlier(replaySettled, 'start a replay group that reached lag 0');
      const r = rng(5);
      const again = scenario.events.filter(() => r() < 0.1);
      await produce(producer, infra.topicPrefix, again);
      await settle(`${groupId}-replay`);
      expect(diffExamples(await stored(), scenario.truth)).toEqual([]);
    },
    SETTLE_MS,
  );
});
