/**
 * Which experiment keys exist in which project: this replica's copy of the compacted experiments
 * topic, where the assignment service publishes a full snapshot of an experiment after every
 * change. Ingestion accepts an item that names an experiment only when that experiment exists in
 * the caller's project (README, "Projects"). ExperimentsConsumer feeds it; it holds keys only, a
 * few bytes per experiment, and answers from memory (one map lookup per item).
 *
 * Readiness (`experiments`) turns up once the copy has reached the high watermarks the topic had
 * when it was first probed: before that, an existing experiment could still answer 404.
 */
import {
  DEFAULT_PROJECT,
  EVENT_TYPES,
  projectOf,
  safeParseEvent,
  TOPICS,
  topicName,
} from '@llmops/contracts';
import {
  type ComponentCheck,
  type ConsumedMessage,
  KAFKA,
  LOGGER,
  READINESS_CHECKS,
  SERVICE_CONFIG,
} from '@llmops/platform';
import { Inject, Injectable } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { FeedbackConfig } from '../config/feedback.config';

@Injectable()
export class ExperimentDirectory {
  private readonly projects = new Map<string, Set<string>>();
  /** Per partition, the offset after the last record applied. */
  private readonly positions = new Map<number, bigint>();
  /** Per non-empty partition, the offset the copy must reach to be caught up (taken once). */
  private targets: Map<number, bigint> | undefined;
  private caughtUp = false;
  private readonly topic: string;

  constructor(
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(SERVICE_CONFIG) config: FeedbackConfig,
    @Inject(READINESS_CHECKS) checks: ComponentCheck[],
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.topic = topicName(TOPICS.experiments, config.KAFKA_TOPIC_PREFIX);
    checks.push({
      name: 'experiments',
      check: async () => {
        if (!(await this.catchUp())) throw new Error(`still reading ${this.topic}`);
      },
    });
  }

  /** Whether experiment `key` exists in `project` (in any status). */
  has(project: string, key: string): boolean {
    return this.projects.get(project)?.has(key) === true;
  }

  /** How many experiments the copy holds, over all projects. */
  get size(): number {
    let n = 0;
    for (const keys of this.projects.values()) n += keys.size;
    return n;
  }

  /**
   * Applies records of the experiments topic, in offset order per partition. A record that is not
   * an experiment snapshot is logged and skipped (the assignment service, which owns the topic,
   * dead-letters it; every replica here would only add copies).
   */
  apply(messages: readonly ConsumedMessage[]): void {
    for (const message of messages) {
      if (message.value === null) this.remove(message.key?.toString('utf8'));
      else this.add(message);
      this.positions.set(message.partition, BigInt(message.offset) + 1n);
    }
    if (!this.caughtUp && this.targets) this.caughtUp = this.reachedTargets();
  }

  /**
   * Whether the copy has caught up (it stays so once it has). The first call takes the topic's high
   * watermarks, so it needs the broker; it rejects while the topic does not exist yet.
   */
  async catchUp(): Promise<boolean> {
    if (this.caughtUp) return true;
    this.targets ??= await this.highWatermarks();
    this.caughtUp = this.reachedTargets();
    if (this.caughtUp) this.logger.info({ experiments: this.size }, 'experiment directory caught up');
    return this.caughtUp;
  }

  private reachedTargets(): boolean {
    for (const [partition, target] of this.targets ?? []) {
      if ((this.positions.get(partition) ?? 0n) < target) return false;
    }
    return true;
  }

  private async highWatermarks(): Promise<Map<number, bigint>> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const targets = new Map<number, bigint>();
      for (const p of await admin.fetchTopicOffsets(this.topic)) {
        if (BigInt(p.high) > BigInt(p.low)) targets.set(p.partition, BigInt(p.high));
      }
      return targets;
    } finally {
      await admin.disconnect();
    }
  }

  private add(message: ConsumedMessage): void {
    const parsed = safeParseEvent(message.value as Buffer, { tolerateUnknownFields: true });
    const event = parsed.ok ? parsed.event : undefined;
    if (
      event?.type !== EVENT_TYPES.experimentCreated &&
      event?.type !== EVENT_TYPES.experimentUpdated &&
      event?.type !== EVENT_TYPES.experimentStatusChanged
    ) {
      this.logger.warn(
        {
          topic: message.topic,
          partition: message.partition,
          offset: message.offset,
          err: parsed.ok ? `unexpected event type ${parsed.event.type}` : parsed.error.message,
        },
        'skipping a record of the experiments topic that is not an experiment snapshot',
      );
      return;
    }
    const { key } = event.data.experiment;
    const project = projectOf(event);
    let keys = this.projects.get(project);
    if (!keys) this.projects.set(project, (keys = new Set()));
    keys.add(key);
  }

  /** A tombstone: the record key is `<experiment key>` in project default, `<project>/<key>` otherwise. */
  private remove(recordKey: string | undefined): void {
    if (recordKey === undefined) return;
    const slash = recordKey.indexOf('/');
    const project = slash < 0 ? DEFAULT_PROJECT : recordKey.slice(0, slash);
    this.projects.get(project)?.delete(slash < 0 ? recordKey : recordKey.slice(slash + 1));
  }
}
