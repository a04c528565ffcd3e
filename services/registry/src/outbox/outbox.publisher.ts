/**
 * Drains the outbox: version and alias-move documents inserted with `published: false`. Each round
 * re-applies the read models, sends the events through the micro-batching producer (acks: -1), and
 * only after the broker acknowledged marks them published. A crash anywhere in between leaves them
 * unpublished, so they are sent again (same deterministic event id): at-least-once, never lost.
 * Runs every REGISTRY_OUTBOX_POLL_MS, right after each write (kick), and backs off while the broker
 * is unavailable. Several instances may drain the same record concurrently; that only duplicates
 * (same id), it never loses.
 */
import { BatchingProducer, LOGGER, type OutgoingMessage, SERVICE_CONFIG } from '@llmops/platform';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { Logger } from 'pino';
import type { RegistryConfig } from '../config/registry.config';
import { AliasMoveRepository } from '../prompts/persistence/alias-move.repository';
import { PromptSummaryRepository } from '../prompts/persistence/prompt-summary.repository';
import { PromptVersionRepository } from '../prompts/persistence/prompt-version.repository';
import { REGISTRY_METRICS, type RegistryMetrics } from '../prompts/registry.metrics';
import { BrokerProbe } from './broker-probe';
import { aliasMoveMessage, versionMessage } from './outbox-events';
import { registryTopics, type RegistryTopics } from './registry-topics';

interface Prepared<T> {
  records: T[];
  messages: OutgoingMessage[];
}

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
    const [versions, moves] = await Promise.all([
      this.versions.findUnpublished(limit),
      this.moves.findUnpublished(limit),
    ]);
    if (versions.length === 0 && moves.length === 0) {
      this.metrics.outboxPending.set({ kind: 'version' }, 0);
      this.metrics.outboxPending.set({ kind: 'alias' }, 0);
      return 0;
    }
    // Read models first: once an event is marked published nothing would repair them any more.
    for (const v of versions) await this.summaries.applyVersion(v);
    for (const m of moves) await this.summaries.applyAliasMove(m);

    // Never send into an outage (see BrokerProbe); the events simply stay pending.
    await this.probe.check([this.topics.versions, this.topics.aliases]);
    const v = this.prepare(versions, versionMessage);
    const m = this.prepare(moves, aliasMoveMessage);
    const [vSent, mSent] = await Promise.allSettled([
      v.messages.length ? this.producer.send(this.topics.versions, v.messages) : Promise.resolve(),
      m.messages.length ? this.producer.send(this.topics.aliases, m.messages) : Promise.resolve(),
    ]);
    let acked = 0;
    if (vSent.status === 'fulfilled') {
      await this.versions.markPublished(v.records.map((r) => r.id));
      this.metrics.outboxPublished.inc({ kind: 'version' }, v.records.length);
      acked += v.records.length;
    }
    if (mSent.status === 'fulfilled') {
      await this.moves.markPublished(m.records.map((r) => r.id));
      this.metrics.outboxPublished.inc({ kind: 'alias' }, m.records.length);
      acked += m.records.length;
    }
    this.metrics.outboxPending.set(
      { kind: 'version' },
      versions.length - (vSent.status === 'fulfilled' ? v.records.length : 0),
    );
    this.metrics.outboxPending.set(
      { kind: 'alias' },
      moves.length - (mSent.status === 'fulfilled' ? m.records.length : 0),
    );
    const failed = [vSent, mSent].find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      // A timed-out batch may still be inside kafkajs' retries; let it settle before any resend, so
      // two copies of one record are never in flight at once.
      await this.producer.flush().catch(() => undefined);
      throw failed.reason;
    }
    return acked;
  }

  private prepare<T extends { id: string }>(records: T[], toMessage: (r: T) => OutgoingMessage): Prepared<T> {
    const out: Prepared<T> = { records: [], messages: [] };
    for (const r of records) {
      try {
        out.messages.push(toMessage(r));
        out.records.push(r);
      } catch (err) {
        // Cannot happen for data this service validated; never let one record block the others.
        this.logger.error(
          { err, id: r.id },
          'outbox record does not match the event contract; left unpublished',
        );
      }
    }
    return out;
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
