/**
 * Benchmark: buffered `client.feedback.log()` of the TypeScript SDK (@llmops/client, from its
 * sources) from this one process, through the real feedback service into Kafka, against the
 * feedback-batch benchmark's baseline (kafkajs `sendBatch` of the same serialized events,
 * support/feedback-baseline.ts), in the same run.
 *
 *  - ours: BENCH_ITEMS items (the batch workload's shapes, each with its own requestId) logged one
 *    after the other with `await client.feedback.log(item)`, then `await client.flush()`. The
 *    client sets each feedbackId, buffers (overflow `block`: nothing is dropped) and sends batches
 *    of 1,000 to `POST /v1/feedback/batch` (the service as a process: validation, revision claims in
 *    MongoDB, events published with acks -1 before its 202). Items/s = items over the wall time from
 *    the first log() until flush() resolved, i.e. until Kafka acknowledged every item. Also
 *    printed: this process's CPU time per item (the client's share of the host).
 *    The ids are client-side, so the service claims each item in MongoDB before it publishes it
 *    (`feedback-batch` sends items without ids, claimed after the ack): its claim-bound is the
 *    ceiling to compare with.
 *  - baseline: kafkajs `sendBatch` of 100 serialized feedback events, acks -1, 8 concurrent
 *    senders (what `feedback-batch` measures as its baseline).
 * Both are measured in BENCH_ROUNDS rounds after a warm-up round (harness medianOfRounds).
 * Then every item is looked for on the service's feedback topic by its feedbackId, read up to the
 * end offsets taken after the last flush: the run fails unless each is there exactly once.
 *
 * Run: BENCH_ONLY=sdk-feedback npm run bench
 * Env: KAFKA_BROKERS, MONGODB_URI, BENCH_ITEMS (50000 per round), BENCH_ROUNDS (3),
 *      BENCH_SECONDS (5) and BENCH_WARMUP_SECONDS (2): the baseline's measurement and warm-up.
 * Goals: >= 20,000 items/s; >= 0.5x the baseline.
 */
import type { ChildProcess } from 'node:child_process';
import { TOPICS, topicName } from '@llmops/contracts';
import type { IssuedTestKey } from '@llmops/testing';
import { Kafka, logLevel } from 'kafkajs';
// The SDK from its sources, as its own tests use it; benchmarks are the one place allowed to reach
// into a project by path.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { LlmopsClient } from '../../libs/sdk/src';
import {
  batchItem,
  createBaselineTopic,
  FEEDBACK_PARTITIONS,
  measureKafkaBaseline,
} from './support/feedback-baseline';
import { FEEDBACK_BENCH_ENV, issueFeedbackBenchKey, publishBenchExperiment } from './support/feedback-claims';
import {
  hostBusySince,
  hostCpu,
  KAFKA,
  medianOfRounds,
  reportRatio,
  runBench,
  runId,
  setting,
  startReadyService,
  stopChild,
} from './support/harness';
import { reportResult } from './support/result';

const ITEMS = setting('BENCH_ITEMS', 50_000);
const SECONDS = setting('BENCH_SECONDS', 5);
const WARMUP = setting('BENCH_WARMUP_SECONDS', 2);
const RATE_GOAL = 20_000;
const RATIO_GOAL = 0.5;
const BATCH = 1_000;

/**
 * Every record of `topic` up to the end offsets it has now, counted by `data.feedbackId`.
 */
async function countFeedbackIds(topic: string): Promise<Map<string, number>> {
  const kafka = new Kafka({
    brokers: KAFKA.split(','),
    clientId: 'sdk-feedback-bench',
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
  await admin.disconnect();
  const pending = new Set([...ends].filter(([, high]) => high > 0n).map(([p]) => p));
  const counts = new Map<string, number>();
  const consumer = kafka.consumer({ groupId: `sdk-feedback-bench-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  if (pending.size === 0) done();
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const message of batch.messages) {
        if (BigInt(message.offset) >= (ends.get(batch.partition) ?? 0n)) continue;
        const id = (JSON.parse(message.value?.toString() ?? '{}') as { data?: { feedbackId?: string } }).data
          ?.feedbackId;
        if (id !== undefined) counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      const last = batch.messages[batch.messages.length - 1];
      if (last && BigInt(last.offset) + 1n >= (ends.get(batch.partition) ?? 0n)) {
        pending.delete(batch.partition);
        if (pending.size === 0) done();
      }
    },
  });
  const timeout = setTimeout(() => done(), 120_000);
  await finished;
  clearTimeout(timeout);
  await consumer.disconnect();
  if (pending.size > 0) throw new Error(`partitions ${[...pending].join(', ')} not read to their end`);
  return counts;
}

async function main(): Promise<void> {
  const run = runId();
  const children: ChildProcess[] = [];
  let client: LlmopsClient | undefined;
  try {
    const key: IssuedTestKey = await issueFeedbackBenchKey(run);
    const service = await startReadyService(
      'services/feedback/src/main.ts',
      {
        run,
        db: 'feedback',
        env: { ...FEEDBACK_BENCH_ENV, KAFKA_TOPIC_PARTITIONS: String(FEEDBACK_PARTITIONS) },
      },
      children,
    );
    await publishBenchExperiment(run, service.url, key);
    const baselineTopic = topicName(`${TOPICS.feedback}.baseline`, `${run}.`);
    await createBaselineTopic(baselineTopic);
    client = new LlmopsClient({
      apiKey: key.key,
      urls: { feedback: service.url },
      buffer: { maxItems: 10 * BATCH, maxBatch: BATCH, overflow: 'block' },
    });
    const c = client;
    const logged: string[] = [];
    let round = 0;
    const ours = async (): Promise<number> => {
      const prefix = `${run}-${round++}`;
      const host = hostCpu();
      const cpu = process.cpuUsage();
      const started = process.hrtime.bigint();
      for (let i = 0; i < ITEMS; i++) {
        logged.push(await c.feedback.log({ ...batchItem(i), requestId: `${prefix}-${i}` }));
      }
      const { rejected } = await c.flush();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (rejected.length > 0) throw new Error(`the service refused items: ${JSON.stringify(rejected[0])}`);
      const rate = ITEMS / seconds;
      const used = process.cpuUsage(cpu);
      console.log(
        `ours      ${rate.toFixed(0).padStart(7)} items/s   (${ITEMS} feedback.log() then flush(), ${seconds.toFixed(1)} s, this process ${((used.user + used.system) / ITEMS).toFixed(1)} µs CPU/item)${hostBusySince(host)}`,
      );
      return rate;
    };
    console.log(`SDK feedback benchmark: ${ITEMS} items per round from one process, batches of ${BATCH}`);
    const m = await medianOfRounds({
      baseline: () =>
        measureKafkaBaseline(baselineTopic, { connections: 8, seconds: SECONDS, warmupSeconds: WARMUP }),
      ours,
    });
    const metrics = c.metrics();
    console.log(`client metrics: ${JSON.stringify(metrics)}`);

    const counts = await countFeedbackIds(topicName(TOPICS.feedback, `${run}.`));
    const missing = logged.filter((id) => counts.get(id) === undefined).length;
    const repeated = logged.filter((id) => (counts.get(id) ?? 0) > 1).length;
    console.log(
      `on Kafka: ${logged.length} items logged, ${logged.length - missing - repeated} exactly once, ${missing} missing, ${repeated} more than once`,
    );
    if (missing > 0 || repeated > 0 || metrics.dropped > 0) {
      throw new Error(`not every item is on Kafka exactly once (${missing} missing, ${repeated} repeated)`);
    }
    reportResult({
      measure: 'SDK feedback.log() items/s accepted into Kafka, one process',
      value: m.ours,
      unit: 'items/s',
      goal: { op: '>=', value: RATE_GOAL },
    });
    reportRatio('SDK feedback.log() items/s, ours/bare kafkajs sendBatch', m.ours, m.baseline, RATIO_GOAL);
  } finally {
    await client?.shutdown().catch(() => undefined);
    for (const child of children) await stopChild(child);
  }
}

runBench(main);
