/**
 * Acceptance: a consumer killed with SIGKILL after processing but before committing
 * re-processes only that batch, and the test observes it. The victim runs in a child process
 * (fixtures/crash-consumer.ts) so the kill is a real one: no finally blocks, no disconnect.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { expectEventually, testInfra } from '@llmops/testing';
import type { Admin, Kafka } from 'kafkajs';
import { BatchConsumer, type BatchContext } from '../src/kafka/batch-consumer';
import { BatchingProducer } from '../src/kafka/batching-producer';
import type { CrashConsumerReport } from './fixtures/crash-consumer';
import { committedOffsets, createTopics, testKafka, testLogger } from './support/kafka-test-kit';

const ROOT = join(__dirname, '..', '..', '..');
const FIXTURE = join(__dirname, 'fixtures', 'crash-consumer.ts');

describe('BatchConsumer crash between processing and commit (real Kafka, SIGKILL)', () => {
  const infra = testInfra();
  const logger = testLogger();
  const topic = `${infra.topicPrefix}crash.events`;
  const dlq = `${infra.topicPrefix}crash.dead-letter`;
  const groupId = `${infra.id}-crash`;
  let kafka: Kafka;
  let admin: Admin;
  let producer: BatchingProducer;
  let child: ChildProcess | undefined;
  let replacement: BatchConsumer | undefined;
  let childStderr = '';

  const produce = (from: number, to: number): Promise<void> =>
    producer.send(
      topic,
      Array.from({ length: to - from }, (_, i) => ({ key: 'k', value: `event-${from + i}` })),
    );

  beforeAll(async () => {
    kafka = testKafka(infra.kafkaBrokers, infra.id, logger);
    admin = kafka.admin();
    await admin.connect();
    // One partition: a single, fully ordered log makes "exactly that batch" unambiguous.
    await createTopics(kafka, [
      { name: topic, partitions: 1 },
      { name: dlq, partitions: 1 },
    ]);
    producer = new BatchingProducer(kafka, { logger });
    await producer.connect();
  });

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await replacement?.stop();
    await producer?.close();
    await admin?.disconnect();
  });

  it('re-processes exactly the uncommitted batch after a SIGKILL, nothing earlier', async () => {
    await produce(0, 20);

    const reports: CrashConsumerReport[] = [];
    child = spawn(process.execPath, ['-r', '@swc-node/register', FIXTURE], {
      cwd: ROOT,
      env: {
        ...process.env,
        KAFKA_BROKERS: infra.kafkaBrokers,
        TOPIC: topic,
        GROUP_ID: groupId,
        DLQ_TOPIC: dlq,
        BLOCK_FROM: '20',
      },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    child.stderr!.on('data', (chunk: Buffer) => (childStderr += chunk.toString()));
    child.on('message', (m: CrashConsumerReport) => reports.push(m));
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
      child!.once('exit', (code, signal) => resolve(signal ?? code)),
    );

    // Phase 1: the child processes and commits offsets 0..19.
    await expectEventually(
      () => {
        expect(child!.exitCode).toBeNull();
        expect(reports).toContainEqual(expect.objectContaining({ kind: 'committed', last: '19' }));
      },
      { timeoutMs: 30_000 },
    ).catch((err: Error) => {
      err.message += `\nchild stderr:\n${childStderr}`;
      throw err;
    });
    expect((await committedOffsets(admin, groupId, topic)).get(0)).toBe(20);

    // Phase 2: new events; the child processes their batch, reports it, and blocks in beforeCommit.
    await produce(20, 30);
    const blocked = await expectEventually(() => {
      const r = reports.find((x) => x.kind === 'processed-uncommitted');
      expect(r).toBeDefined();
      return { first: Number(r!.first), last: Number(r!.last) };
    });
    expect(blocked.first).toBe(20);
    expect(blocked.last).toBeGreaterThanOrEqual(20);

    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    // The kill came before the commit: the group still points at the start of that batch.
    expect((await committedOffsets(admin, groupId, topic)).get(0)).toBe(blocked.first);

    // Phase 3: a new member of the same group takes over.
    const batches: { first: number; last: number; offsets: number[] }[] = [];
    replacement = new BatchConsumer(kafka, {
      groupId,
      topics: [topic],
      fromBeginning: true,
      deadLetterTopic: dlq,
      logger,
      consumerConfig: { sessionTimeout: 6_000, rebalanceTimeout: 10_000, heartbeatInterval: 1_000 },
      handler: async (messages, ctx: BatchContext) => {
        batches.push({
          first: Number(ctx.firstOffset),
          last: Number(ctx.lastOffset),
          offsets: messages.map((m) => Number(m.offset)),
        });
      },
    });
    await replacement.start();

    await expectEventually(
      () =>
        expect(batches.flatMap((b) => b.offsets)).toEqual(
          Array.from({ length: 30 - blocked.first }, (_, i) => blocked.first + i),
        ),
      { timeoutMs: 30_000 },
    );
    // It started exactly at the killed batch (re-processing it) and never saw anything earlier.
    expect(batches[0].first).toBe(blocked.first);
    const reprocessed = batches.flatMap((b) => b.offsets).filter((o) => o <= blocked.last);
    expect(reprocessed).toEqual(
      Array.from({ length: blocked.last - blocked.first + 1 }, (_, i) => blocked.first + i),
    );
    await expectEventually(async () =>
      expect((await committedOffsets(admin, groupId, topic)).get(0)).toBe(30),
    );
  });
});
