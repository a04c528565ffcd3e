/**
 * Kafka consumer base.
 *
 * - Processes with `eachBatch` (one handler call per partition batch, never per message).
 * - Commits offsets manually, and only after the handler succeeded: a crash between the two
 *   re-delivers exactly the uncommitted batch, so handlers must be idempotent.
 * - A failing batch is retried `maxAttempts` times with backoff; then each message is tried on
 *   its own, and a message that still fails (or that the handler rejects as invalid) goes to the
 *   dead-letter topic with headers naming the error and its origin. Later messages keep flowing.
 * - Restarts itself after a crash kafkajs does not recover from, and reports lag per partition.
 * - `stop()` finishes and commits the batch in progress before disconnecting (kafkajs'
 *   `disconnect()` alone does not commit work in flight).
 */
import type {
  Consumer,
  ConsumerConfig,
  EachBatchPayload,
  IHeaders,
  Kafka,
  KafkaMessage,
  Producer,
} from 'kafkajs';
import { DLQ_HEADERS } from '@llmops/contracts';
import type { Logger } from 'pino';
import { contextFields, contextFromHeaders } from '../logging/context';
import type { ConsumerMetrics } from './kafka-metrics';

/** Header names of dead-lettered messages: defined once, in the event contracts. */
export const DLQ_HEADER = DLQ_HEADERS;

export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
  timestamp: string;
}

export interface BatchContext {
  topic: string;
  partition: number;
  firstOffset: string;
  lastOffset: string;
  highWatermark: string;
  /** 1 for the first try of this batch. */
  attempt: number;
}

/** A message the handler has judged permanently bad (e.g. schema-invalid): dead-letter it, don't retry. */
export interface RejectedMessage {
  message: ConsumedMessage;
  error: string;
}

export type BatchHandler = (
  messages: ConsumedMessage[],
  ctx: BatchContext,
) => Promise<{ rejected?: RejectedMessage[] } | void>;

export interface CommitInfo {
  topic: string;
  partition: number;
  firstOffset: string;
  lastOffset: string;
  /** The offset that will be committed (lastOffset + 1). */
  commitOffset: string;
}

export interface BatchConsumerOptions {
  groupId: string;
  topics: string[];
  /** Where a group with no committed offset starts. Explicit, because `latest` silently skips data. */
  fromBeginning: boolean;
  handler: BatchHandler;
  deadLetterTopic: string;
  maxAttempts?: number;
  retryBackoffMs?: number;
  logger: Logger;
  metrics?: ConsumerMetrics;
  consumerConfig?: Partial<ConsumerConfig>;
  /** Fault-injection hook for tests: runs after the handler succeeded, before the commit. */
  beforeCommit?: (info: CommitInfo) => Promise<void>;
  /** Called after every commit (tests and freshness metrics use it). */
  afterCommit?: (info: CommitInfo) => void;
}

export class BatchConsumer {
  private consumer?: Consumer;
  private dlqProducer?: Producer;
  private stopping = false;
  private restarting = false;
  private readonly maxAttempts: number;
  private readonly backoffMs: number;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: BatchConsumerOptions,
  ) {
    this.maxAttempts = options.maxAttempts ?? 3;
    this.backoffMs = options.retryBackoffMs ?? 200;
  }

  get groupId(): string {
    return this.options.groupId;
  }

  get isRunning(): boolean {
    return this.consumer !== undefined && !this.stopping;
  }

  async start(): Promise<void> {
    this.stopping = false;
    if (!this.dlqProducer) {
      this.dlqProducer = this.kafka.producer({ allowAutoTopicCreation: true });
      await this.dlqProducer.connect();
    }
    const consumer = this.kafka.consumer({
      groupId: this.options.groupId,
      // Short enough that a crashed member's partitions move on quickly, long enough for GC pauses.
      sessionTimeout: 10_000,
      // Bounds how long stop() waits for an in-flight fetch.
      maxWaitTimeInMs: 1_000,
      heartbeatInterval: 3_000,
      rebalanceTimeout: 60_000,
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10_000 },
      ...this.options.consumerConfig,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, (event) => {
      const { error, restart } = event.payload;
      this.options.logger.error(
        { err: error.message, restart, group: this.groupId },
        'kafka consumer crashed',
      );
      if (!restart && !this.stopping) void this.restart();
    });
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      this.options.logger.info(
        { group: this.groupId, memberId: event.payload.memberId, assignment: event.payload.memberAssignment },
        'kafka consumer joined group',
      );
    });
    // Publish every label set at 0 up front, so dashboards and alerts see "none yet", not "no data".
    for (const topic of this.options.topics) {
      this.options.metrics?.deadLettered.inc({ group: this.groupId, topic }, 0);
    }
    await consumer.connect();
    await consumer.subscribe({ topics: this.options.topics, fromBeginning: this.options.fromBeginning });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  /** Finish and commit the batch in progress, then leave the group. */
  async stop(): Promise<void> {
    this.stopping = true;
    const consumer = this.consumer;
    this.consumer = undefined;
    if (consumer) {
      await consumer.stop();
      await consumer.disconnect();
    }
    if (this.dlqProducer) {
      await this.dlqProducer.disconnect();
      this.dlqProducer = undefined;
    }
  }

  private async restart(): Promise<void> {
    if (this.restarting) return;
    this.restarting = true;
    this.options.metrics?.restarts.inc({ group: this.groupId });
    try {
      const old = this.consumer;
      this.consumer = undefined;
      await old?.disconnect().catch(() => undefined);
      await sleep(1_000);
      if (!this.stopping) await this.start();
    } catch (err) {
      this.options.logger.error({ err, group: this.groupId }, 'kafka consumer restart failed; retrying');
      this.restarting = false;
      setTimeout(() => void this.restart(), 5_000).unref();
      return;
    }
    this.restarting = false;
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, heartbeat, isRunning, isStale, resolveOffset, commitOffsetsIfNecessary } = payload;
    if (batch.messages.length === 0 || !isRunning() || isStale()) return;
    const started = process.hrtime.bigint();
    const messages = batch.messages.map((m) => toConsumed(batch.topic, batch.partition, m));
    const ctx: Omit<BatchContext, 'attempt'> = {
      topic: batch.topic,
      partition: batch.partition,
      firstOffset: batch.firstOffset() ?? messages[0].offset,
      lastOffset: batch.lastOffset(),
      highWatermark: batch.highWatermark,
    };

    const ok = await this.processWithRetries(messages, ctx, heartbeat);
    if (!ok) {
      // Isolate the poison: each message on its own, dead-lettering those that keep failing.
      for (const message of messages) {
        if (!isRunning()) return;
        const single = await this.processWithRetries(
          [message],
          { ...ctx, firstOffset: message.offset, lastOffset: message.offset },
          heartbeat,
        );
        if (!single) await this.deadLetter(message, this.lastFailure ?? 'handler failed', this.maxAttempts);
      }
    }

    const last = messages[messages.length - 1];
    const info: CommitInfo = {
      topic: batch.topic,
      partition: batch.partition,
      firstOffset: ctx.firstOffset,
      lastOffset: last.offset,
      commitOffset: (BigInt(last.offset) + 1n).toString(),
    };
    if (this.options.beforeCommit) await this.options.beforeCommit(info);
    resolveOffset(last.offset);
    // Commit through the batch payload, not `consumer.commitOffsets`: during stop() kafkajs'
    // runner is already marked not running and `consumer.commitOffsets` silently does nothing
    // (and `this.consumer` is cleared), which dropped the commit of the batch that stop() waits
    // for. The payload's explicit-offset commit goes straight to the group coordinator.
    await commitOffsetsIfNecessary({
      topics: [
        { topic: batch.topic, partitions: [{ partition: batch.partition, offset: info.commitOffset }] },
      ],
    });
    await heartbeat();
    const lag = BigInt(batch.highWatermark) - BigInt(info.commitOffset);
    this.options.metrics?.lag.set(
      { group: this.groupId, topic: batch.topic, partition: String(batch.partition) },
      Number(lag < 0n ? 0n : lag),
    );
    this.options.metrics?.batchSeconds.observe(
      { group: this.groupId },
      Number(process.hrtime.bigint() - started) / 1e9,
    );
    this.options.afterCommit?.(info);
  }

  private lastFailure?: string;

  private async processWithRetries(
    messages: ConsumedMessage[],
    ctx: Omit<BatchContext, 'attempt'>,
    heartbeat: () => Promise<void>,
  ): Promise<boolean> {
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      try {
        const result = await this.options.handler(messages, { ...ctx, attempt });
        const rejected = result?.rejected ?? [];
        for (const r of rejected) await this.deadLetter(r.message, r.error, attempt);
        const okCount = messages.length - rejected.length;
        if (okCount > 0) {
          this.options.metrics?.processed.inc(
            { group: this.groupId, topic: ctx.topic, outcome: 'ok' },
            okCount,
          );
        }
        return true;
      } catch (err) {
        this.lastFailure = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        this.options.logger.warn(
          { group: this.groupId, topic: ctx.topic, partition: ctx.partition, attempt, err: this.lastFailure },
          'batch handler failed',
        );
        if (attempt < this.maxAttempts) {
          await sleep(this.backoffMs * 2 ** (attempt - 1));
          await heartbeat();
        }
      }
    }
    return false;
  }

  private async deadLetter(message: ConsumedMessage, error: string, attempts: number): Promise<void> {
    const headers: IHeaders = {
      ...message.headers,
      [DLQ_HEADER.error]: error.slice(0, 4_000),
      [DLQ_HEADER.originalTopic]: message.topic,
      [DLQ_HEADER.originalPartition]: String(message.partition),
      [DLQ_HEADER.originalOffset]: message.offset,
      [DLQ_HEADER.attempts]: String(attempts),
      [DLQ_HEADER.consumerGroup]: this.groupId,
    };
    // Must succeed before the offset is committed; if the DLQ is unavailable the batch is retried.
    const producer = this.dlqProducer;
    if (!producer) throw new Error('dead-letter producer not connected (consumer not started)');
    await producer.send({
      topic: this.options.deadLetterTopic,
      acks: -1,
      messages: [{ key: message.key, value: message.value, headers }],
    });
    this.options.metrics?.deadLettered.inc({ group: this.groupId, topic: message.topic });
    this.options.metrics?.processed.inc({
      group: this.groupId,
      topic: message.topic,
      outcome: 'dead_lettered',
    });
    this.options.logger.error(
      {
        // The ids of the request that produced the message, to find it in the producer's logs.
        ...contextFields(contextFromHeaders(message.headers)),
        group: this.groupId,
        topic: message.topic,
        partition: message.partition,
        offset: message.offset,
        error,
      },
      'message sent to dead-letter topic',
    );
  }
}

function toConsumed(topic: string, partition: number, m: KafkaMessage): ConsumedMessage {
  return {
    topic,
    partition,
    offset: m.offset,
    key: m.key ?? null,
    value: m.value ?? null,
    headers: m.headers ?? {},
    timestamp: m.timestamp,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
