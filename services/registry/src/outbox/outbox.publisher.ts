/**
 * Drains the outbox: version and alias-move documents inserted with `published: false`. Each round
 * re-applies the read models, sends the events (each record's registry event and its audit record)
 * through the micro-batching producer (acks: -1), and only after the broker acknowledged all of a
 * record's events marks it published. A crash anywhere in between leaves them
 * unpublished, so they are sent again (same deterministic event id): at-least-once, never lost.
 * Runs every REGISTRY_OUTBOX_POLL_MS, right after each write (kick), and backs off while the broker
 * is unavailable. Several instances may drain the same record concurrently; that only duplicates
 * (same id), it never loses.
 */
import {
  BatchingProducer,
  isDatabaseUnavailable,
  LOGGER,
  type OutgoingMessage,
  SERVICE_CONFIG,
} from '@llmops/platform';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { Logger } from 'pino';
import type { RegistryConfig } from '../config/registry.config';
import { AliasMoveRepository, type UnpublishedAliasMove } from '../persistence/alias-move.repository';
import type { OutboxEntry, OutboxFailure } from '../persistence/outbox-state';
import { PromptSummaryRepository } from '../persistence/prompt-summary.repository';
import { PromptVersionRepository, type UnpublishedVersion } from '../persistence/prompt-version.repository';
import { REGISTRY_METRICS, type RegistryMetrics } from '../metrics/registry.metrics';
import { BrokerProbe } from './broker-probe';
import {
  aliasMoveAuditMessage,
  aliasMoveMessage,
  publishableMessage,
  versionAuditMessage,
  versionMessage,
} from './outbox-events';
import { registryTopics, type RegistryTopics } from './registry-topics';

type Kind = 'version' | 'alias';

/** One event of a record: null when the record has none of this kind. */
interface LaneEvent<T> {
  topic: string;
  toMessage(record: T): OutgoingMessage | null;
}

interface TopicMessage {
  topic: string;
  message: OutgoingMessage;
}

interface Lane<T extends { id: string }> {
  kind: Kind;
  entries: OutboxEntry<T>[];
  applyReadModel(record: T): Promise<void>;
  events: LaneEvent<T>[];
  store: {
    markPublished(ids: string[]): Promise<void>;
    recordFailures(failures: readonly OutboxFailure[]): Promise<void>;
  };
}

interface Ready {
  entry: OutboxEntry<unknown>;
  messages: TopicMessage[];
}

interface Failed {
  entry: OutboxEntry<unknown>;
  error: unknown;
}

const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

@Injectable()
export class OutboxPublisher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly topics: RegistryTopics;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private kicked = false;
  private stopped = false;
  private consecutiveFailures = 0;

  constructor(
    private readonly versions: PromptVersionRepository,
    private readonly moves: AliasMoveRepository,
    private readonly summaries: PromptSummaryRepository,
    private readonly producer: BatchingProducer,
    private readonly probe: BrokerProbe,
    @Inject(SERVICE_CONFIG) private readonly config: RegistryConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(REGISTRY_METRICS) private readonly metrics: RegistryMetrics,
  ) {
    this.topics = registryTopics(config);
  }

  onApplicationBootstrap(): void {
    this.schedule(0);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    // Let a round in flight finish (its sends are flushed by the producer's own shutdown).
    await this.running;
  }

  /** Publish soon (called after each write). While the broker is failing, the backoff still applies. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.kicked = true;
      return;
    }
    if (this.consecutiveFailures === 0) this.schedule(0);
  }

  /** One round; resolves with the number of events acknowledged. Exposed for tests and tools. */
  async drainOnce(): Promise<number> {
    const limit = this.config.REGISTRY_OUTBOX_BATCH_SIZE;
    const now = new Date();
    const [versions, moves] = await Promise.all([
      this.versions.findUnpublished(limit, now),
      this.moves.findUnpublished(limit, now),
    ]);
    if (versions.length === 0 && moves.length === 0) {
      this.metrics.outboxPending.set({ kind: 'version' }, 0);
      this.metrics.outboxPending.set({ kind: 'alias' }, 0);
      return 0;
    }
    const lanes: Lane<{ id: string }>[] = [
      {
        kind: 'version',
        entries: versions,
        applyReadModel: (v) => this.summaries.applyVersion(v as UnpublishedVersion),
        events: [
          { topic: this.topics.versions, toMessage: (v) => versionMessage(v as UnpublishedVersion) },
          { topic: this.topics.audit, toMessage: (v) => versionAuditMessage(v as UnpublishedVersion) },
        ],
        store: this.versions,
      },
      {
        kind: 'alias',
        entries: moves,
        applyReadModel: (m) => this.summaries.applyAliasMove(m as UnpublishedAliasMove),
        events: [
          { topic: this.topics.aliases, toMessage: (m) => aliasMoveMessage(m as UnpublishedAliasMove) },
          { topic: this.topics.audit, toMessage: (m) => aliasMoveAuditMessage(m as UnpublishedAliasMove) },
        ],
        store: this.moves,
      },
    ];
    // Read models first: once an event is marked published nothing would repair them any more.
    // Records that fail for a reason of their own are set aside (backoff, then quarantine).
    const ready: Ready[][] = [];
    for (const lane of lanes) ready.push(await this.prepare(lane));

    // Never send into an outage (see BrokerProbe); the events simply stay pending.
    await this.probe.check(this.probedTopics());
    const sent = await Promise.allSettled(lanes.map((lane, i) => this.send(lane, ready[i])));
    let acked = 0;
    lanes.forEach((lane, i) => {
      const result = sent[i];
      const published = result.status === 'fulfilled' ? result.value : 0;
      acked += published;
      this.metrics.outboxPending.set({ kind: lane.kind }, lane.entries.length - published);
    });
    const failed = sent.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return acked;
  }

  /** The messages of a lane's records; records that cannot become one are recorded as failures. */
  private async prepare<T extends { id: string }>(lane: Lane<T>): Promise<Ready[]> {
    const ready: Ready[] = [];
    const failures: Failed[] = [];
    for (const entry of lane.entries) {
      if (!entry.record) {
        failures.push({ entry, error: `the stored document cannot be read: ${errorMessage(entry.error)}` });
        continue;
      }
      try {
        await lane.applyReadModel(entry.record);
      } catch (err) {
        // The database is away: the whole round waits (transient). Anything else is this record's.
        if (isDatabaseUnavailable(err)) throw err;
        failures.push({ entry, error: err });
        continue;
      }
      try {
        const messages: TopicMessage[] = [];
        for (const { topic, toMessage } of lane.events) {
          const message = publishableMessage(entry.record, toMessage, this.config.REGISTRY_MAX_EVENT_BYTES);
          if (message) messages.push({ topic, message });
        }
        ready.push({ entry, messages });
      } catch (err) {
        failures.push({ entry, error: err });
      }
    }
    await this.recordFailures(lane, failures);
    return ready;
  }

  private probedTopics(): string[] {
    return [this.topics.versions, this.topics.aliases, this.topics.audit];
  }

  /** Sends messages, one batch per topic; resolves once the broker acknowledged them all. */
  private async sendAll(messages: TopicMessage[]): Promise<void> {
    const byTopic = new Map<string, OutgoingMessage[]>();
    for (const { topic, message } of messages) {
      const batch = byTopic.get(topic);
      if (batch) batch.push(message);
      else byTopic.set(topic, [message]);
    }
    await Promise.all([...byTopic].map(([topic, batch]) => this.producer.send(topic, batch)));
  }

  /**
   * Sends a lane's messages as one batch per topic and marks the records published after the
   * broker's acks. When a reachable broker refuses a batch, each record is sent alone, so the ones
   * it refuses are found and set aside while the others are published.
   */
  private async send<T extends { id: string }>(lane: Lane<T>, ready: Ready[]): Promise<number> {
    if (ready.length === 0) return 0;
    const topics = this.probedTopics();
    const published: string[] = [];
    const failures: Failed[] = [];
    try {
      try {
        await this.sendAll(ready.flatMap((r) => r.messages));
        published.push(...ready.map((r) => r.entry.id));
        return published.length;
      } catch (err) {
        // A timed-out batch may still be inside the client's retries; let it settle before any
        // resend, so two copies of one record are never in flight at once.
        await this.producer.flush().catch(() => undefined);
        await this.probe.check(topics).catch(() => Promise.reject(err));
      }
      for (const r of ready) {
        try {
          await this.sendAll(r.messages);
          published.push(r.entry.id);
        } catch (err) {
          await this.producer.flush().catch(() => undefined);
          // The broker went away meanwhile: not this record's failure; the round is retried.
          await this.probe.check(topics).catch(() => Promise.reject(err));
          failures.push({ entry: r.entry, error: err });
        }
      }
      if (ready.length > 1 && failures.length === ready.length) {
        // Every record refused alike: a broker-side problem (e.g. permissions), not the records'.
        const [first] = failures;
        failures.length = 0;
        throw first.error;
      }
      return published.length;
    } finally {
      await lane.store.markPublished(published);
      this.metrics.outboxPublished.inc({ kind: lane.kind }, published.length);
      await this.recordFailures(lane, failures);
    }
  }

  /** Backoff for records that failed on their own, quarantine after REGISTRY_OUTBOX_MAX_ATTEMPTS. */
  private async recordFailures<T extends { id: string }>(lane: Lane<T>, failures: Failed[]): Promise<void> {
    if (failures.length === 0) return;
    const failedAt = new Date();
    const out: OutboxFailure[] = failures.map(({ entry, error }) => {
      const attempts = entry.attempts + 1;
      const message = errorMessage(error);
      const fields = { kind: lane.kind, id: entry.id, attempts, err: message };
      if (attempts >= this.config.REGISTRY_OUTBOX_MAX_ATTEMPTS) {
        this.metrics.outboxQuarantined.inc({ kind: lane.kind });
        this.logger.error(fields, 'outbox record quarantined: it could not be published');
        return { id: entry.id, attempts, error: message, failedAt };
      }
      const retryInMs = Math.min(
        this.config.REGISTRY_OUTBOX_POLL_MS * 2 ** attempts,
        this.config.REGISTRY_OUTBOX_MAX_BACKOFF_MS,
      );
      this.logger.warn({ ...fields, retryInMs }, 'outbox record could not be published; retrying it later');
      return {
        id: entry.id,
        attempts,
        error: message,
        failedAt,
        retryAt: new Date(failedAt.getTime() + retryInMs),
      };
    });
    await lane.store.recordFailures(out);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.running) return;
    this.timer = undefined;
    let delay = this.config.REGISTRY_OUTBOX_POLL_MS;
    const round = this.drainOnce().then(
      (acked) => {
        if (this.consecutiveFailures > 0) this.logger.info({ acked }, 'outbox publisher recovered');
        this.consecutiveFailures = 0;
        if (acked >= this.config.REGISTRY_OUTBOX_BATCH_SIZE || this.kicked) delay = 0;
      },
      (err: unknown) => {
        this.consecutiveFailures += 1;
        this.metrics.outboxFailures.inc();
        delay = Math.min(
          this.config.REGISTRY_OUTBOX_POLL_MS * 2 ** this.consecutiveFailures,
          this.config.REGISTRY_OUTBOX_MAX_BACKOFF_MS,
        );
        this.logger.warn(
          {
            err: err instanceof Error ? err.message : String(err),
            retryInMs: delay,
            failures: this.consecutiveFailures,
          },
          'outbox publish failed; events stay pending and will be retried',
        );
      },
    );
    this.kicked = false;
    this.running = round;
    await round;
    this.running = undefined;
    this.schedule(delay);
  }
}
