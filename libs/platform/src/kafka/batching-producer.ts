/**
 * Micro-batching Kafka producer.
 *
 * kafkajs has no linger or batch size of its own: one awaited `send` per HTTP request tops out
 * around 2k msg/s, while `sendBatch` reaches 100k+. This class queues messages from many
 * concurrent callers and sends them with one `sendBatch` (acks: -1) when a batch holds
 * `maxBatchMessages` or has waited `lingerMs`. Every caller awaits the acknowledgement of the
 * batch its messages were in; a failed send rejects exactly those callers.
 *
 * With `maxInFlight` = 1 (default) batches go out strictly one after another, so per-partition
 * order equals call order, and while one batch is in flight the next one fills up (group
 * commit): batching grows with load instead of with a fixed timer.
 *
 * A batch that cannot be acknowledged within `sendTimeoutMs` rejects its callers with
 * KafkaUnavailableError (HTTP 503 + Retry-After). If it had not been dispatched yet it is
 * dropped, so nothing that was refused is sent later; if it was in flight the broker may still
 * take it, which is why consumers deduplicate by event id.
 */
import type { Kafka, Message, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { KafkaUnavailableError } from '../errors/app-error';
import { type ComponentCheck, withTimeout } from '../health/health';
import type { ProducerMetrics } from './kafka-metrics';

export interface OutgoingMessage {
  key: string | null;
  value: string | Buffer;
  headers?: Record<string, string>;
  /** Milliseconds since epoch, as a string (kafkajs convention). */
  timestamp?: string;
  partition?: number;
}

/** What the BatchingProducer needs of a Kafka client: connect, one acks -1 batch send, a probe, disconnect. */
export interface SendBatchTransport {
  connect(): Promise<void>;
  /** Resolves when the broker acknowledged every message (acks -1) within `timeoutMs`. */
  sendBatch(topicMessages: { topic: string; messages: Message[] }[], timeoutMs: number): Promise<void>;
  /** Resolves when the brokers answer a fresh metadata request for `topics` (the cluster for none). */
  probe(topics: string[]): Promise<void>;
  disconnect(): Promise<void>;
}

/** kafkajs's producer as a transport (tests and tools; the services use PlatformaticTransport). */
export function kafkajsTransport(kafka: Kafka): SendBatchTransport {
  const producer: Producer = kafka.producer({
    allowAutoTopicCreation: false,
    // Retries stay inside the send timeout; the caller gets a 503 rather than a long hang.
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 },
  });
  return {
    connect: () => producer.connect(),
    sendBatch: async (topicMessages, timeoutMs) => {
      await producer.sendBatch({ acks: -1, timeout: timeoutMs, topicMessages });
    },
    // kafkajs' producer has no metadata call of its own: an admin of the same client.
    probe: async (topics) => {
      const admin = kafka.admin({ retry: { retries: 0 } });
      try {
        await admin.connect();
        await admin.fetchTopicMetadata({ topics });
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    },
    disconnect: () => producer.disconnect(),
  };
}

export interface BatchingProducerOptions {
  maxBatchMessages?: number;
  lingerMs?: number;
  sendTimeoutMs?: number;
  maxInFlight?: number;
  logger?: Logger;
  metrics?: ProducerMetrics;
}

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

class Batch {
  readonly createdAt = Date.now();
  readonly byTopic = new Map<string, Message[]>();
  readonly waiters: Waiter[] = [];
  count = 0;
  sealed = false;
  settled = false;
  deadline?: NodeJS.Timeout;

  add(topic: string, messages: OutgoingMessage[], waiter: Waiter): void {
    let list = this.byTopic.get(topic);
    if (!list) {
      list = [];
      this.byTopic.set(topic, list);
    }
    for (const m of messages) list.push(m);
    this.count += messages.length;
    this.waiters.push(waiter);
  }

  settle(err?: Error): void {
    if (this.settled) return;
    this.settled = true;
    if (this.deadline) clearTimeout(this.deadline);
    for (const w of this.waiters) {
      if (err) w.reject(err);
      else w.resolve();
    }
  }
}

export class ProducerClosedError extends KafkaUnavailableError {
  constructor() {
    super('The service is shutting down and accepts no new events. Retry against another instance.');
  }
}

export class BatchingProducer {
  private readonly producer: SendBatchTransport;
  private readonly maxBatch: number;
  private readonly lingerMs: number;
  private readonly sendTimeoutMs: number;
  private readonly maxInFlight: number;
  private readonly queue: Batch[] = [];
  private readonly inFlightBatches = new Set<Promise<void>>();
  private timer?: NodeJS.Timeout;
  /** A post-acknowledgement drain is scheduled (see onDispatchSettled). */
  private drainScheduled = false;
  /** The next pump may dispatch the head batch without waiting for linger. */
  private drainNow = false;
  private closing = false;
  private probing?: Promise<void>;

  /** `kafka`: a kafkajs client (its producer is used) or a transport (PlatformaticTransport). */
  constructor(
    kafka: Kafka | SendBatchTransport,
    private readonly options: BatchingProducerOptions = {},
  ) {
    this.maxBatch = options.maxBatchMessages ?? 500;
    this.lingerMs = options.lingerMs ?? 5;
    this.sendTimeoutMs = options.sendTimeoutMs ?? 10_000;
    this.maxInFlight = options.maxInFlight ?? 1;
    this.producer = 'sendBatch' in kafka ? kafka : kafkajsTransport(kafka);
  }

  async connect(): Promise<void> {
    await this.producer.connect();
  }

  /**
   * A fresh metadata round trip through the client that sends: the `kafka` readiness check, and the
   * outbox's "is the broker there" question before it sends.
   */
  probe(topics: string[] = []): Promise<void> {
    return this.producer.probe(topics);
  }

  /** Readiness check `kafka`: the producing client reaches the brokers within `timeoutMs`. */
  readinessCheck(timeoutMs: number): ComponentCheck {
    // One probe in flight: a probe the timeout gave up on keeps running, and during an outage each
    // round would otherwise queue another metadata request on the client that sends.
    const probeOnce = (): Promise<void> =>
      (this.probing ??= this.probe().finally(() => {
        this.probing = undefined;
      }));
    return { name: 'kafka', timeoutMs, check: () => withTimeout(probeOnce(), timeoutMs, 'kafka metadata') };
  }

  /** Resolves when the broker has acknowledged (acks: -1) the batch holding these messages. */
  send(topic: string, messages: OutgoingMessage[]): Promise<void> {
    if (this.closing) return Promise.reject(new ProducerClosedError());
    if (messages.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      let batch = this.queue[this.queue.length - 1];
      if (!batch || batch.sealed || (batch.count > 0 && batch.count + messages.length > this.maxBatch)) {
        if (batch) batch.sealed = true;
        batch = this.newBatch();
      }
      batch.add(topic, messages, { resolve, reject });
      if (batch.count >= this.maxBatch) batch.sealed = true;
      this.pump();
    });
  }

  /** Sends everything queued now and waits for all in-flight batches. */
  async flush(): Promise<void> {
    for (const b of this.queue) b.sealed = true;
    this.pump();
    while (this.queue.length > 0 || this.inFlightBatches.size > 0) {
      await Promise.allSettled([...this.inFlightBatches]);
      this.pump();
      if (this.inFlightBatches.size === 0 && this.queue.length > 0) {
        // Only expired batches can remain; pump drops them.
        await new Promise((r) => setImmediate(r));
      }
    }
  }

  /** Graceful shutdown: refuse new sends, deliver what was accepted, disconnect. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await this.flush();
    if (this.timer) clearTimeout(this.timer);
    await this.producer.disconnect();
  }

  private newBatch(): Batch {
    const batch = new Batch();
    batch.deadline = setTimeout(() => this.expire(batch), this.sendTimeoutMs);
    batch.deadline.unref();
    this.queue.push(batch);
    return batch;
  }

  private expire(batch: Batch): void {
    const queued = this.queue.indexOf(batch);
    if (queued >= 0) this.queue.splice(queued, 1);
    this.options.metrics?.failures.inc({ reason: 'timeout' });
    batch.settle(
      new KafkaUnavailableError(
        `The event broker did not acknowledge within ${this.sendTimeoutMs} ms; nothing is guaranteed to be stored. Retry later.`,
      ),
    );
    this.pump();
  }

  private pump(): void {
    while (this.inFlightBatches.size < this.maxInFlight && this.queue.length > 0) {
      const head = this.queue[0];
      if (head.settled) {
        this.queue.shift();
        continue;
      }
      const age = Date.now() - head.createdAt;
      if (!head.sealed && !this.closing && !this.drainNow && age < this.lingerMs) {
        if (!this.drainScheduled) this.armTimer(this.lingerMs - age);
        return;
      }
      this.drainNow = false;
      this.queue.shift();
      head.sealed = true;
      const p = this.dispatch(head).finally(() => this.onDispatchSettled(p));
      this.inFlightBatches.add(p);
    }
  }

  /**
   * Group commit. When a batch is acknowledged, what queued up during its flight should go out
   * now: lingering again would only add latency. Closed-loop callers (a request awaits its ack,
   * then the next one sends) re-send during the current turn, so the drain waits for that turn
   * to end (setImmediate) and then dispatches the head batch without waiting for linger. Without
   * this, every batch after the first one waited a full linger after each ack, which cut
   * throughput by more than half when the load did not fill whole batches.
   */
  private onDispatchSettled(p: Promise<void>): void {
    this.inFlightBatches.delete(p);
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      this.drainNow = true;
      this.pump();
      this.drainNow = false;
    });
  }

  private armTimer(ms: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, ms);
  }

  private async dispatch(batch: Batch): Promise<void> {
    const started = process.hrtime.bigint();
    try {
      await this.producer.sendBatch(
        [...batch.byTopic].map(([topic, messages]) => ({ topic, messages })),
        this.sendTimeoutMs,
      );
      this.options.metrics?.batchSize.observe(batch.count);
      this.options.metrics?.flushSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
      batch.settle();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.options.metrics?.failures.inc({ reason: 'send_error' });
      this.options.logger?.warn({ err: message, messages: batch.count }, 'kafka batch send failed');
      batch.settle(new KafkaUnavailableError(undefined, err));
    }
  }
}
