/**
 * Exactly-once effects: the service runs as a child process and is SIGKILLed 3 times at random
 * points while a mixed stream flows (two projects, edits, stale revisions, feedback before its
 * generation, parked feedback, 10% duplicate records). When the group's lag is 0, every example
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
  mixedScenario,
  openDatabase,
  produce,
  rng,
  type StoredExample,
} from './support/scenario';
import { killHard, type ServiceProcess, startService } from './support/service-process';

/**
 * The load. FerretDB (the test server here) applies the upserts of a bulk write one by one, so the
 * default keeps the file within minutes on a small shared host; DATASETS_CRASH_EVENTS=20000 is the
 * full load.
 */
const EVENTS = Number(process.env.DATASETS_CRASH_EVENTS ?? 1_500);
/** How long the group may take to reach lag 0. */
const SETTLE_MS = 60_000 + EVENTS * 100;

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
  const stored = () => db.examples.find({}).sort({ _id: 1 }).toArray() as Promise<StoredExample[]>;

  it(
    `${EVENTS} events, 3 kills: every example equals ground truth`,
    async () => {
      const r = rng(99);
      const chunks = 20;
      const size = Math.ceil(scenario.events.length / chunks);
      const killAt = new Set<number>();
      while (killAt.size < 3) killAt.add(2 + Math.floor(r() * (chunks - 4)));
      const started = Date.now();
      service = await startService(env);
      for (let i = 0; i < chunks; i++) {
        await produce(producer, infra.topicPrefix, scenario.events.slice(i * size, (i + 1) * size));
        if (killAt.has(i)) {
          // Let the consumer get into the middle of its work, then kill it without warning.
          await new Promise((res) => setTimeout(res, 500 + Math.floor(r() * 2_500)));
          await killHard(service);
          service = await startService(env);
        }
      }
      await settle(groupId);
      console.log(
        `[exactly-once] ${scenario.events.length} events, ${scenario.truth.size} examples, 3 kills: lag 0 after ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      expect(diffExamples(await stored(), scenario.truth)).toEqual([]);
    },
    SETTLE_MS + 120_000,
  );

  it(
    'a replay from the earliest offset in a new group leaves every example unchanged',
    async () => {
      const before = (await stored()).map(exampleView);
      expect(before.length).toBe(scenario.truth.size);
      await killHard(service!);
      const replayGroup = `${groupId}-replay`;
      service = await startService({ ...env, DATASETS_CONSUMER_GROUP: replayGroup });
      await settle(replayGroup);
      expect((await stored()).map(exampleView)).toEqual(before);
    },
    SETTLE_MS + 60_000,
  );

  it(
    '10% of the records sent again: every example still equals ground truth',
    async () => {
      const r = rng(5);
      const again = scenario.events.filter(() => r() < 0.1);
      await produce(producer, infra.topicPrefix, again);
      await settle(`${groupId}-replay`);
      expect(diffExamples(await stored(), scenario.truth)).toEqual([]);
    },
    SETTLE_MS,
  );
});
