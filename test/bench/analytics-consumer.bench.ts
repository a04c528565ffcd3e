/**
 * Analytics consumer benchmarks, each measured in one run against the local Kafka and MongoDB:
 *  1. throughput of the aggregation consumer vs bare kafkajs eachBatch consume-and-discard of the
 *     same events (goal >= 0.8x);
 *  2. MongoDB commands per 100 events at steady state, counted with the driver's command
 *     monitoring (goal <= 1);
 *  3. freshness: feedback produced -> visible in the results use case, p99 at ~50% load (goal < 2 s).
 * Run: BENCH_ONLY=analytics-consumer npm run bench
 * Env: KAFKA_BROKERS, MONGODB_URI, BENCH_EVENTS (20000), BENCH_FRESHNESS_SECONDS (20).
 */
/* eslint-disable @nx/enforce-module-boundaries -- the benchmark drives the service's use case in-process
   to count MongoDB commands with the driver's command monitoring; benches are not product code. */
import { randomBytes } from 'node:crypto';
import { TOPICS, topicName } from '@llmops/contracts';
import { BatchConsumer, coPartitionAssigner, consumerMetrics, createLogger } from '@llmops/platform';
import { Kafka, logLevel } from 'kafkajs';
import { Registry } from 'prom-client';
import {
  ApplyBatchUseCase,
  type TopicRole,
} from '../../services/analytics/src/aggregation/apply-batch.usecase';
import { GetResultsUseCase } from '../../services/analytics/src/results/get-results.usecase';
import {
  createTopics,
  feedbackEvent,
  groupLag,
  mixedScenario,
  produce,
  topicsFor,
} from '../../services/analytics/test/support/scenario';
import { openPersistence } from '../../services/analytics/test/support/persistence';
import { KAFKA, MONGO, runBench, setting, waitUntil } from './support/harness';
import { reportResult } from './support/result';

const EVENTS = setting('BENCH_EVENTS', 20_000);
const FRESHNESS_SECONDS = setting('BENCH_FRESHNESS_SECONDS', 20);

/** Polls every 100 ms: the freshness probes measure how soon a change is visible. */
function waitFor(cond: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  return waitUntil(cond, what, { timeoutMs, intervalMs: 100 });
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
}

async function main(): Promise<void> {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  const id = `bench${randomBytes(3).toString('hex')}`;
  const prefix = `${id}.`;
  const kafka = new Kafka({ brokers: KAFKA.split(','), clientId: id, logLevel: logLevel.NOTHING });
  await createTopics(kafka, prefix);
  const producer = kafka.producer();
  await producer.connect();
  const scenario = mixedScenario('bench-exp', EVENTS, 5);
  await produce(producer, prefix, scenario.events);
  const total = scenario.events.length;
  const topics = Object.values(topicsFor(prefix));
  console.log(`produced ${total} mixed events to ${prefix}*`);

  // 1a) Baseline: bare kafkajs eachBatch, consume and discard.
  const bareGroup = `${id}-bare`;
  const bare = kafka.consumer({ groupId: bareGroup });
  await bare.connect();
  await bare.subscribe({ topics, fromBeginning: true });
  let seen = 0;
  let bareStart = 0;
  await bare.run({
    eachBatch: async ({ batch }) => {
      if (bareStart === 0) bareStart = Date.now();
      seen += batch.messages.length;
    },
  });
  await waitFor(async () => seen >= total, 'bare consumer', 120_000);
  const bareSeconds = (Date.now() - bareStart) / 1000;
  await bare.disconnect();

  // 1b) Ours: the aggregation use case behind the platform BatchConsumer, same events.
  const persistence = await openPersistence(MONGO, `bench_${id}`, { monitorCommands: true });
  let commands = 0;
  let countFrom = Number.POSITIVE_INFINITY;
  let processed = 0;
  persistence.connection.getClient().on('commandStarted', () => {
    if (processed >= countFrom) commands++;
  });
  const aggregation = persistence.aggregation();
  const experiments = persistence.experiments;
  const logger = createLogger('bench', 'warn');
  const ignore = (): undefined => undefined;
  const useCase = new ApplyBatchUseCase(
    aggregation,
    experiments,
    { event: ignore, commands: ignore, changed: ignore },
    logger,
  );
  const roleOf = new Map<string, TopicRole>([
    [topicName(TOPICS.exposures, prefix), 'exposures'],
    [topicName(TOPICS.generations, prefix), 'generations'],
    [topicName(TOPICS.feedback, prefix), 'feedback'],
    [topicName(TOPICS.experiments, prefix), 'experiments'],
  ]);
  const group = `${id}-agg`;
  let ourStart = 0;
  let steadyEvents = 0;
  const consumer = new BatchConsumer(kafka, {
    groupId: group,
    topics,
    fromBeginning: true,
    deadLetterTopic: `${prefix}llmops.dead-letter.v1`,
    logger,
    metrics: consumerMetrics(new Registry()),
    consumerConfig: { partitionAssigners: [coPartitionAssigner], maxBytesPerPartition: 4 * 1024 * 1024 },
    handler: async (messages, ctx) => {
      if (ourStart === 0) {
        ourStart = Date.now();
        countFrom = Math.floor(total * 0.1); // steady state: after the first 10% (partition loads)
      }
      const result = await useCase.execute({
        role: roleOf.get(ctx.topic)!,
        partition: ctx.partition,
        messages,
      });
      processed += messages.length;
      if (processed > countFrom) steadyEvents += messages.length;
      return result;
    },
  });
  await consumer.start();
  await waitFor(async () => (await groupLag(kafka, group, prefix)) === 0, 'aggregation consumer', 600_000);
  const ourSeconds = (Date.now() - ourStart) / 1000;
  // Freeze the command count at the end of the backlog (the freshness phase reads on purpose).
  const steadyCommands = commands;
  const steadyProcessed = steadyEvents;
  const bareRate = total / bareSeconds;
  const ourRate = total / ourSeconds;

  // 3) Freshness at ~50% of our throughput: background events + probes.
  const results = new GetResultsUseCase(aggregation, experiments, persistence.decisions, {
    ANALYTICS_MIN_PER_ARM: 200,
    ANALYTICS_RECOMMENDED_PER_ARM: 500,
  });
  const background = mixedScenario('bench-bg', Math.floor(ourRate * 0.5 * 25), 9).events;
  let bgIndex = 0;
  const bgTimer = setInterval(() => {
    const slice = background.slice(bgIndex, bgIndex + Math.max(1, Math.floor(ourRate * 0.5 * 0.1)));
    bgIndex += slice.length;
    if (slice.length > 0) void produce(producer, prefix, slice);
  }, 100);
  const latencies: number[] = [];
  const freshnessEnd = Date.now() + FRESHNESS_SECONDS * 1000;
  let probe = 0;
  while (Date.now() < freshnessEnd) {
    const before = (await results.execute('default', 'bench-exp', { window: 'all' })).arms.find(
      (a) => a.arm === 'control',
    )!.rating.n;
    const t0 = Date.now();
    await produce(producer, prefix, [
      feedbackEvent({
        feedbackId: `probe-${probe}`,
        requestId: `probe-r${probe}`,
        experiment: 'bench-exp',
        arm: 'control',
        rating: 3,
        revision: 1,
        edit: null,
        at: new Date(),
      }),
    ]);
    probe++;
    await waitFor(
      async () =>
        (await results.execute('default', 'bench-exp', { window: 'all' })).arms.find(
          (a) => a.arm === 'control',
        )!.rating.n > before,
      'freshness probe',
      30_000,
    );
    latencies.push(Date.now() - t0);
  }
  clearInterval(bgTimer);
  await consumer.stop();
  await producer.disconnect();
  await persistence.connection.dropDatabase();
  await persistence.connection.close();

  const perHundred = (steadyCommands / Math.max(1, steadyProcessed)) * 100;
  console.log('\n== analytics consumer benchmark ==');
  console.log(`events: ${total} mixed (exposures, generations, feedback incl. edits/duplicates)`);
  console.log(
    `bare kafkajs eachBatch discard : ${bareRate.toFixed(0)} events/s (${bareSeconds.toFixed(2)} s)`,
  );
  console.log(`analytics aggregation consumer : ${ourRate.toFixed(0)} events/s (${ourSeconds.toFixed(2)} s)`);
  console.log(
    `mongo commands / 100 events    : ${steadyCommands} commands / ${steadyProcessed} events at steady state`,
  );
  console.log(
    `freshness feedback->results    : p50 ${quantile(latencies, 0.5)} ms over ${latencies.length} probes at ~50% load`,
  );
  reportResult({
    measure: 'consumer events/s, ours/bare kafkajs eachBatch',
    value: ourRate / bareRate,
    goal: { op: '>=', value: 0.8 },
  });
  reportResult({
    measure: 'MongoDB commands per 100 events',
    value: perHundred,
    unit: '',
    goal: { op: '<=', value: 1 },
  });
  reportResult({
    measure: 'freshness feedback -> results, p99',
    value: quantile(latencies, 0.99),
    unit: 'ms',
    goal: { op: '<', value: 2000 },
  });
}

runBench(main);
