/**
 * Kafka consumer base.
 *
 * - Processes with `eachBatch` (one handler call per partition batch, never per message).
 * - Commits offsets manually, and only after the handler succeeded: a crash between the two
 *   re-delivers exactly the uncommitted batch, so handlers must be idempotent. The commits of
 *   batches that end while one is in flight go to the group coordinator in one request
 *   (GroupedCommits), and with concurrent partitions a batch's commit does not hold its partition
 *   number's lane: the next batch of that number is handled meanwhile.
 * - Tells transient failures from deterministic ones (`classifyFailure`). A transient failure (the
 *   database or broker is unavailable) is retried with capped exponential backoff, heartbeating
 *   while it waits, for as long as the consumer runs; its records are never dead-lettered. A
 *   deterministic failure is retried `maxAttempts` times in all; then the batch is isolated record
 *   by record, and a record that still fails deterministically `maxAttempts` times goes to the
 *   dead-letter topic with headers naming the error and its origin. Every other record of the
 *   batch is applied once. A record the handler rejects (`rejected`, or a thrown
 *   `PoisonRecordError` naming it) is dead-lettered at once, without retries.
 * - Why per record and not bisection: bisecting finds k poison records of an n-record batch in
 *   O(k log n) handler calls but re-runs good records many times, and its attempt count per record
 *   depends on the batch size. Per record costs one batch attempt per deterministic failure plus
 *   n single-record calls (and `maxAttempts - 1` extra calls per poison record), with no backoff
 *   between deterministic retries (waiting does not change a deterministic outcome). Handlers
 *   that can spot poison in memory return it in `rejected`, which costs nothing extra; this path
 *   is the safety net for what only the database notices.
 * - Heartbeats between every attempt and during every wait, so a long isolation or outage never
 *   makes the member miss its session timeout and leave the group.
 * - Restarts itself after a crash kafkajs does not recover from, and reports lag per partition.
 * - With `stallAfterMs`, a background probe (admin API, independent of batches arriving) compares
 *   the group's committed offsets with the high watermarks. "Has lag and has committed nothing for
 *   `stallAfterMs`" marks the consumer stalled: a gauge, and a readiness check named
 *   `kafka-consumer:<group>` that fails while it lasts.
 * - `stop()` finishes and commits the batch in progress before disconnecting (kafkajs'
 *   `disconnect()` alone does not commit work in flight).
 */
import type {
  Admin,
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
import type { ComponentCheck } from '../health/health';
import { contextFields, contextFromHeaders } from '../logging/context';
import { classifyFailure, describeFailure, PoisonRecordError } from './consumer-failures';
import type { ConsumerMetrics } from './kafka-metrics';
import { GroupedCommits } from './grouped-commits';
import { PartitionLanes } from './partition-lanes';

export * from './consumer-failures';

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
  /**
   * How many times this consumer has joined its group so far (a rebalance is a join). A handler that
   * caches state per partition drops what it cached in an earlier join: the partition may have had
   * another owner in between, who may have consumed another topic of it.
   */
  groupJoins: number;
  /** 1 for the first try of this set of messages. */
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
  /** Deterministic failures of one set of records before it is isolated / dead-lettered (default 3). */
  maxAttempts?: number;
  /** First backoff; doubles per retry of a batch, capped by `maxRetryBackoffMs`. */
  retryBackoffMs?: number;
  /** Cap of the backoff between retries of a transient failure (default 5 s). */
  maxRetryBackoffMs?: number;
  /**
   * Lag with no commit for this long marks the consumer stalled (metric + readiness). Unset: no
   * stall probe.
   */
  stallAfterMs?: number;
  /** How often the stall probe reads committed offsets and high watermarks (default: a third of `stallAfterMs`, at most 10 s). */
  lagProbeIntervalMs?: number;
  /**
   * The service's readiness checks (the platform's READINESS_CHECKS array): the consumer adds its
   * own check when it starts and removes it when it stops.
   */
  readinessChecks?: ComponentCheck[];
  logger: Logger;
  metrics?: ConsumerMetrics;
  consumerConfig?: Partial<ConsumerConfig>;
  /**
   * Partition batches handled at once (default 1). Batches of one partition NUMBER never run at
   * once, whatever their topic: with the co-partition assigner a member holds partition p of every
   * topic, and handlers may keep state per partition number (analytics does). So more than 1 helps
   * only while another partition number's batch waits on its database.
   */
  partitionsConsumedConcurrently?: number;
  /**
   * With partitionsConsumedConcurrently > 1: topic names in the order that a partition number's
   * waiting batches run (see PartitionLanes); unlisted topics run after the listed ones.
   */
  laneOrder?: string[];
  /** Fault-injection hook for tests: runs after the handler succeeded, before the commit. */
  beforeCommit?: (info: CommitInfo) => Promise<void>;
  /** Called after every commit (tests and freshness metrics use it). */
  afterCommit?: (info: CommitInfo) => void;
}

/** What the stall probe last saw. */
export interface ConsumerProgress {
  /** Messages between the committed offsets and the high watermarks (null: not measured yet). */
  lag: number | null;
  /** When this consumer last committed, or saw the group's committed offsets move or catch up. */
  lastProgressAt: number;
  stalled: boolean;
}

/** The parts of kafkajs' batch payload a retry loop needs. */
interface RunControl {
  heartbeat(): Promise<void>;
  isRunning(): boolean;
  isStale(): boolean;
}

type AttemptResult =
  | { kind: 'ok' }
  | { kind: 'aborted' }
  | { kind: 'failed'; error: string; attempts: number; remaining: ConsumedMessage[] };

/** The dead-letter producer is not there: a retry after reconnecting fixes it. */
class DeadLetterUnavailableError extends Error {
  override name = 'DeadLetterUnavailableError';
  readonly transient = true;
}

export class BatchConsumer {
  private consumer?: Consumer;
  private dlqProducer?: Producer;
  private admin?: Admin;
  private probeTimer?: NodeJS.Timeout;
  private probing = false;
  private lastCommittedSum?: bigint;
  private stopping = false;
  /** GROUP_JOIN events seen (BatchContext.groupJoins). */
  private groupJoins = 0;
  private restarting = false;
  private readonly maxAttempts: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly check: ComponentCheck;
  /** Per partition number, its batches one at a time (concurrent consumption only). */
  private readonly lanes: PartitionLanes;
  private readonly state: ConsumerProgress = { lag: null, lastProgressAt: Date.now(), stalled: false };

  constructor(
    private readonly kafka: Kafka,
    private readonly options: BatchConsumerOptions,
  ) {
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 3);
    this.lanes = new PartitionLanes(options.laneOrder);
    this.backoffMs = options.retryBackoffMs ?? 200;
    this.maxBackoffMs = options.maxRetryBackoffMs ?? 5_000;
    this.check = {
      name: `kafka-consumer:${options.groupId}`,
      // Reads what the background probe measured: never blocks a readiness probe.
      check: async () => {
        if (!this.state.stalled) return;
        const idle = Math.round((Date.now() - this.state.lastProgressAt) / 1000);
        throw new Error(`${this.state.lag} messages behind and nothing committed for ${idle} s`);
      },
    };
  }

  get groupId(): string {
    return this.options.groupId;
  }

  get isRunning(): boolean {
    return this.consumer !== undefined && !this.stopping;
  }

  /** What the stall probe measured last (a copy). */
  get progress(): ConsumerProgress {
    return { ...this.state };
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
    // This run's commits: one of a crashed run's consumer never holds back this one's.
    const commits = new GroupedCommits();
    consumer.on(consumer.events.CRASH, (event) => {
      const { error, restart } = event.payload;
      this.options.logger.error(
        { err: error.message, restart, group: this.groupId },
        'kafka consumer crashed',
      );
      if (!restart && !this.stopping) void this.restart();
    });
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      this.groupJoins++;
      this.options.metrics?.groupJoins.inc({ group: this.groupId });
      this.options.logger.info(
        { group: this.groupId, memberId: event.payload.memberId, assignment: event.payload.memberAssignment },
        'kafka consumer joined group',
      );
    });
    // Publish every label set at 0 up front, so dashboards and alerts see "none yet", not "no data".
    for (const topic of this.options.topics) {
      this.options.metrics?.deadLettered.inc({ group: this.groupId, topic }, 0);
    }
    this.options.metrics?.restarts.inc({ group: this.groupId }, 0);
    this.options.metrics?.groupJoins.inc({ group: this.groupId }, 0);
    this.startProbe();
    await consumer.connect();
    await consumer.subscribe({ topics: this.options.topics, fromBeginning: this.options.fromBeginning });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: Math.max(1, this.options.partitionsConsumedConcurrently ?? 1),
      eachBatch: async (payload) => {
        // In a lane, only the handling: the commit (a broker round trip) runs once the lane has
        // moved on to the partition number's next batch, whose handler needs nothing from it.
        const commit =
          (this.options.partitionsConsumedConcurrently ?? 1) > 1
            ? await this.lanes.run(payload.batch.partition, payload.batch.topic, () => this.handle(payload))
            : await this.handle(payload);
        if (commit) await commit(commits);
      },
    });
  }

  /** Finish and commit the batch in progress, then leave the group. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.stopProbe();
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

  /**
   * Handles one batch (retries, isolation, dead-lettering) and answers how to commit it, or null
   * when nothing is to be committed (an empty batch, or the consumer stopped or rebalanced first).
   */
  private async handle(
    payload: EachBatchPayload,
  ): Promise<((commits: GroupedCommits) => Promise<void>) | null> {
    const { batch, heartbeat, isRunning, isStale } = payload;
    if (batch.messages.length === 0 || !isRunning() || isStale()) return null;
    const run: RunControl = { heartbeat, isRunning, isStale };
    const started = process.hrtime.bigint();
    const messages = batch.messages.map((m) => toConsumed(batch.topic, batch.partition, m));
    const ctx: Omit<BatchContext, 'attempt'> = {
      topic: batch.topic,
      partition: batch.partition,
      firstOffset: batch.firstOffset() ?? messages[0].offset,
      lastOffset: batch.lastOffset(),
      highWatermark: batch.highWatermark,
      groupJoins: this.groupJoins,
    };

    const result = await this.attempt(messages, ctx, run, true);
    // Not running any more (stop, rebalance) before the batch could be applied: commit nothing,
    // the partition's next owner gets the whole batch again.
    if (result.kind === 'aborted') return null;
    if (result.kind === 'failed') {
      // Isolate the poison: each remaining record on its own; those that keep failing are
      // dead-lettered together (one broker round trip), before the batch is committed.
      const poison: RejectedMessage[] = [];
      for (const message of result.remaining) {
        const single = await this.attempt([message], ctx, run, false);
        if (single.kind === 'aborted') return null;
        if (single.kind === 'failed') poison.push({ message, error: single.error });
        await heartbeat();
      }
      if (poison.length > 0 && !(await this.deadLetterRetrying(poison, this.maxAttempts, run))) return null;
    }
    return (commits) =>
      this.commit(commits, payload, ctx.firstOffset, messages[messages.length - 1].offset, started);
  }

  /**
   * Commits a handled batch with its run's other commits, then heartbeats and records its lag and
   * duration.
   */
  private async commit(
    commits: GroupedCommits,
    payload: EachBatchPayload,
    firstOffset: string,
    lastOffset: string,
    started: bigint,
  ): Promise<void> {
    const { batch, heartbeat, resolveOffset, commitOffsetsIfNecessary } = payload;

    const info: CommitInfo = {
      topic: batch.topic,
      partition: batch.partition,
      firstOffset,
      lastOffset,
      commitOffset: (BigInt(lastOffset) + 1n).toString(),
    };
    if (this.options.beforeCommit) await this.options.beforeCommit(info);
    resolveOffset(lastOffset);
    // Commit through the batch payload, not `consumer.commitOffsets`: during stop() kafkajs'
    // runner is already marked not running and `consumer.commitOffsets` silently does nothing
    // (and `this.consumer` is cleared), which dropped the commit of the batch that stop() waits
    // for. The payload's explicit-offset commit goes straight to the group coordinator, in one
    // request with the commits of the batches that end meanwhile.
    await commits.commit(batch.topic, batch.partition, info.commitOffset, commitOffsetsIfNecessary);
    this.madeProgress();
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

  /**
   * Applies one set of records until it succeeds: transient failures are retried for as long as
   * the consumer runs; `maxAttempts` deterministic failures end it with `failed`. A record named by
   * a `PoisonRecordError` is dead-lettered and the rest retried without it.
   */
  private async attempt(
    messages: ConsumedMessage[],
    base: Omit<BatchContext, 'attempt'>,
    run: RunControl,
    backoffOnDeterministic: boolean,
  ): Promise<AttemptResult> {
    let set = messages;
    let deterministic = 0;
    let transient = 0;
    for (;;) {
      if (!run.isRunning() || run.isStale()) return { kind: 'aborted' };
      const attempt = deterministic + transient + 1;
      let rejected: RejectedMessage[];
      try {
        const result = await this.whileHeartbeating(run, () =>
          this.options.handler(set, {
            ...base,
            firstOffset: set[0].offset,
            lastOffset: set[set.length - 1].offset,
            attempt,
          }),
        );
        rejected = result?.rejected ?? [];
      } catch (err) {
        const error = describeFailure(err);
        if (err instanceof PoisonRecordError && set.some((m) => m.offset === err.record.offset)) {
          if (!(await this.deadLetterRetrying([{ message: err.record, error }], attempt, run))) {
            return { kind: 'aborted' };
          }
          set = set.filter((m) => m.offset !== err.record.offset);
          deterministic = 0;
          if (set.length === 0) return { kind: 'ok' };
          continue;
        }
        const kind = classifyFailure(err);
        this.options.logger.warn(
          {
            group: this.groupId,
            topic: base.topic,
            partition: base.partition,
            firstOffset: set[0].offset,
            records: set.length,
            attempt,
            kind,
            err: error,
          },
          'batch handler failed',
        );
        if (kind === 'transient') {
          transient++;
          if (!(await this.wait(this.backoff(transient), run))) return { kind: 'aborted' };
          continue;
        }
        deterministic++;
        if (deterministic >= this.maxAttempts) {
          return { kind: 'failed', error, attempts: deterministic, remaining: set };
        }
        if (backoffOnDeterministic && !(await this.wait(this.backoff(deterministic), run))) {
          return { kind: 'aborted' };
        }
        await run.heartbeat();
        continue;
      }
      // One send for all of them: a burst of rejected records costs one broker round trip.
      if (rejected.length > 0 && !(await this.deadLetterRetrying(rejected, attempt, run))) {
        return { kind: 'aborted' };
      }
      const okCount = set.length - rejected.length;
      if (okCount > 0) {
        this.options.metrics?.processed.inc(
          { group: this.groupId, topic: base.topic, outcome: 'ok' },
          okCount,
        );
      }
      return { kind: 'ok' };
    }
  }

  /**
   * Runs one handler call while heartbeating every second: a call that waits long on its database
   * (a slow or frozen one) must not make the member miss its session timeout and leave the group.
   * kafkajs sends a heartbeat only when its interval has passed; failures (a rebalance) are left to
   * the calls around this one, which check isRunning/isStale.
   */
  private async whileHeartbeating<T>(run: RunControl, call: () => Promise<T>): Promise<T> {
    const timer = setInterval(() => void run.heartbeat().catch(() => undefined), 1_000);
    try {
      return await call();
    } finally {
      clearInterval(timer);
    }
  }

  private backoff(retry: number): number {
    return Math.min(this.maxBackoffMs, this.backoffMs * 2 ** Math.min(retry - 1, 30));
  }

  /** Sleeps `ms`, heartbeating at least every second; false when the consumer stopped meanwhile. */
  private async wait(ms: number, run: RunControl): Promise<boolean> {
    const until = Date.now() + ms;
    for (;;) {
      await run.heartbeat();
      if (!run.isRunning() || run.isStale()) return false;
      const left = until - Date.now();
      if (left <= 0) return true;
      await sleep(Math.min(left, 1_000));
    }
  }

  /**
   * Dead-letters records, in sends of at most DLQ_SEND_BYTES. While the broker is unavailable a
   * send is retried like a transient failure. A record the broker refuses for good (larger than the
   * topic's size limit once the headers are added) is dead-lettered without its value, its headers
   * saying why, so that nothing can hold the partition.
   */
  private async deadLetterRetrying(
    records: RejectedMessage[],
    attempts: number,
    run: RunControl,
  ): Promise<boolean> {
    for (const chunk of chunksBySize(records)) {
      for (let retry = 1; ; retry++) {
        try {
          await this.deadLetter(chunk, attempts);
          break;
        } catch (err) {
          if (classifyFailure(err) === 'deterministic' && !(err instanceof DeadLetterUnavailableError)) {
            if (chunk.length > 1) {
              // Find the record the broker refuses: one send each.
              for (const one of chunk)
                if (!(await this.deadLetterRetrying([one], attempts, run))) return false;
              break;
            }
            if (chunk[0].message.value !== null) {
              const [{ message, error }] = chunk;
              const dropped = `${error} (value of ${message.value?.length} bytes dropped: ${describeFailure(err)})`;
              if (
                !(await this.deadLetterRetrying(
                  [{ message: { ...message, value: null }, error: dropped }],
                  attempts,
                  run,
                ))
              ) {
                return false;
              }
              break;
            }
          }
          this.options.logger.warn(
            { group: this.groupId, records: chunk.length, err: describeFailure(err) },
            'dead-letter topic unavailable; retrying',
          );
          if (!(await this.wait(this.backoff(retry), run))) return false;
        }
      }
    }
    return true;
  }

  /** Sends records to the dead-letter topic in one acknowledged (acks=-1) batch. */
  private async deadLetter(records: RejectedMessage[], attempts: number): Promise<void> {
    // Must succeed before the offset is committed; if the DLQ is unavailable the send is retried.
    const producer = this.dlqProducer;
    if (!producer) {
      throw new DeadLetterUnavailableError('dead-letter producer not connected (consumer not started)');
    }
    await producer.send({
      topic: this.options.deadLetterTopic,
      acks: -1,
      messages: records.map(({ message, error }) => ({
        key: message.key,
        value: message.value,
        headers: {
          ...message.headers,
          [DLQ_HEADER.error]: error.slice(0, 4_000),
          [DLQ_HEADER.originalTopic]: message.topic,
          [DLQ_HEADER.originalPartition]: String(message.partition),
          [DLQ_HEADER.originalOffset]: message.offset,
          [DLQ_HEADER.attempts]: String(attempts),
          [DLQ_HEADER.consumerGroup]: this.groupId,
        } satisfies IHeaders,
      })),
    });
    for (const { message, error } of records) {
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

  private madeProgress(): void {
    this.state.lastProgressAt = Date.now();
    this.setStalled(false);
  }

  private setStalled(stalled: boolean): void {
    if (stalled !== this.state.stalled) {
      this.state.stalled = stalled;
      const idleSeconds = Math.round((Date.now() - this.state.lastProgressAt) / 1000);
      if (stalled) {
        this.options.logger.error(
          { group: this.groupId, lag: this.state.lag, idleSeconds },
          'kafka consumer stalled: lag and no commit',
        );
      } else {
        this.options.logger.info({ group: this.groupId }, 'kafka consumer progressing again');
      }
    }
    this.options.metrics?.stalled.set({ group: this.groupId }, this.state.stalled ? 1 : 0);
  }

  private startProbe(): void {
    const stallAfterMs = this.options.stallAfterMs;
    const checks = this.options.readinessChecks;
    if (checks && !checks.includes(this.check)) checks.push(this.check);
    if (stallAfterMs === undefined || this.probeTimer) return;
    this.state.lastProgressAt = Date.now();
    this.setStalled(false);
    const interval =
      this.options.lagProbeIntervalMs ?? Math.max(250, Math.min(10_000, Math.floor(stallAfterMs / 3)));
    this.probeTimer = setInterval(() => void this.probe(stallAfterMs), interval);
    this.probeTimer.unref();
  }

  private stopProbe(): void {
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.probeTimer = undefined;
    const checks = this.options.readinessChecks;
    const at = checks?.indexOf(this.check) ?? -1;
    if (checks && at >= 0) checks.splice(at, 1);
    const admin = this.admin;
    this.admin = undefined;
    void admin?.disconnect().catch(() => undefined);
  }

  /**
   * One probe round: the group's committed offsets against the high watermarks, through the admin
   * API, so a member that receives no batches at all (out of its group, hung fetch) is measured too.
   */
  private async probe(stallAfterMs: number): Promise<void> {
    if (this.probing || this.stopping) return;
    this.probing = true;
    try {
      if (!this.admin) {
        const admin = this.kafka.admin({ retry: { retries: 0 } });
        await admin.connect();
        // stop() may have run while it connected: it found no admin to close, so close it here.
        if (this.stopping || !this.probeTimer) {
          await admin.disconnect().catch(() => undefined);
          return;
        }
        this.admin = admin;
      }
      const admin = this.admin;
      const committed = await admin.fetchOffsets({ groupId: this.groupId, topics: this.options.topics });
      let lag = 0n;
      let committedSum = 0n;
      for (const topic of this.options.topics) {
        const ends = await admin.fetchTopicOffsets(topic);
        const done = new Map(
          (committed.find((c) => c.topic === topic)?.partitions ?? []).map((p) => [
            p.partition,
            BigInt(p.offset),
          ]),
        );
        for (const end of ends) {
          const high = BigInt(end.high);
          const c = done.get(end.partition) ?? -1n;
          // No commit yet: the group starts at the beginning (or at the end, which is no lag).
          const position = c >= 0n ? c : this.options.fromBeginning ? BigInt(end.low) : high;
          const behind = high > position ? high - position : 0n;
          lag += behind;
          committedSum += c >= 0n ? c : 0n;
          this.options.metrics?.lag.set(
            { group: this.groupId, topic, partition: String(end.partition) },
            Number(behind),
          );
        }
      }
      // Caught up, or lag just appeared (the clock starts now), or another member of the group
      // committed (this one may own no partition): not idle.
      const lagAppeared = lag > 0n && (this.state.lag === null || this.state.lag === 0);
      const othersCommitted = this.lastCommittedSum !== undefined && committedSum !== this.lastCommittedSum;
      if (lag === 0n || lagAppeared || othersCommitted) {
        this.state.lastProgressAt = Date.now();
      }
      this.lastCommittedSum = committedSum;
      this.state.lag = Number(lag);
      const idleMs = Date.now() - this.state.lastProgressAt;
      this.options.metrics?.idleSeconds.set({ group: this.groupId }, lag === 0n ? 0 : idleMs / 1000);
      this.setStalled(lag > 0n && idleMs >= stallAfterMs);
    } catch (err) {
      // Cannot measure (broker away): the last measured lag stands; the kafka check reports the broker.
      this.options.logger.warn(
        { group: this.groupId, err: describeFailure(err) },
        'consumer lag probe failed',
      );
      const idleMs = Date.now() - this.state.lastProgressAt;
      if (this.state.lag !== null && this.state.lag > 0) this.setStalled(idleMs >= stallAfterMs);
      const admin = this.admin;
      this.admin = undefined;
      await admin?.disconnect().catch(() => undefined);
    } finally {
      this.probing = false;
    }
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

/** Largest sum of value sizes in one dead-letter send (the broker's default record batch limit is 1 MB). */
const DLQ_SEND_BYTES = 256 * 1024;

function chunksBySize(records: RejectedMessage[]): RejectedMessage[][] {
  const chunks: RejectedMessage[][] = [];
  let chunk: RejectedMessage[] = [];
  let bytes = 0;
  for (const r of records) {
    const size = (r.message.value?.length ?? 0) + (r.message.key?.length ?? 0) + 1_024;
    if (chunk.length > 0 && bytes + size > DLQ_SEND_BYTES) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(r);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
