/**
 * Keeps this replica's in-memory experiments current. At boot: every experiment from MongoDB,
 * then the compacted experiments topic from the beginning with a consumer group of this replica's
 * own (every replica must see every record; a shared group would split the partitions). Snapshots
 * are full, so applying "highest revision wins" in any order converges.
 */
import { randomUUID } from 'node:crypto';
import { EVENT_TYPES, safeParseEvent, TOPICS, topicName } from '@llmops/contracts';
import {
  BatchConsumer,
  type ComponentCheck,
  consumerMetrics,
  type ConsumedMessage,
  ensureTopics,
  KAFKA,
  LOGGER,
  METRICS_REGISTRY,
  READINESS_CHECKS,
  type RejectedMessage,
  SERVICE_CONFIG,
} from '@llmops/platform';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { AssignmentConfig } from '../config/assignment.config';
import { ExperimentStore } from './experiment-store';
import { experimentTopics } from './experiment-topics';
import { ExperimentRepository } from './persistence/experiment.repository';

/** Applies one partition batch of experiment events; schema-invalid records are dead-lettered. */
export function applyExperimentMessages(
  store: ExperimentStore,
  messages: ConsumedMessage[],
): RejectedMessage[] {
  const rejected: RejectedMessage[] = [];
  for (const message of messages) {
    if (message.value === null) continue; // tombstone: experiments are never deleted today
    const parsed = safeParseEvent(message.value, { tolerateUnknownFields: true });
    if (!parsed.ok) {
      rejected.push({ message, error: parsed.error.message });
      continue;
    }
    const event = parsed.event;
    if (
      event.type === EVENT_TYPES.experimentCreated ||
      event.type === EVENT_TYPES.experimentUpdated ||
      event.type === EVENT_TYPES.experimentStatusChanged
    ) {
      const result = store.apply(event.data.experiment, 'topic');
      if (typeof result === 'object')
        rejected.push({ message, error: `cannot apply snapshot: ${result.invalid}` });
    } else {
      rejected.push({ message, error: `unexpected event type ${event.type} on the experiments topic` });
    }
  }
  return rejected;
}

@Injectable()
export class ExperimentsConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private consumer?: BatchConsumer;

  constructor(
    private readonly store: ExperimentStore,
    private readonly repository: ExperimentRepository,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(SERVICE_CONFIG) private readonly config: AssignmentConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    @Inject(READINESS_CHECKS) private readonly readinessChecks: ComponentCheck[],
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.repository.ensureIndexes();
    const records = await this.repository.findAll();
    for (const r of records) this.store.apply(r.snapshot, 'mongo');
    this.logger.info({ experiments: records.length }, 'experiments loaded from MongoDB');

    // The platform lifecycle creates topics too, but its hook may run after this one.
    await ensureTopics(this.kafka, experimentTopics(this.config));
    const instance = this.config.INSTANCE_ID || randomUUID();
    this.consumer = new BatchConsumer(this.kafka, {
      groupId: `${this.config.KAFKA_CLIENT_ID}.experiments.${instance}`,
      topics: [topicName(TOPICS.experiments, this.config.KAFKA_TOPIC_PREFIX)],
      fromBeginning: true,
      deadLetterTopic: topicName(TOPICS.deadLetter, this.config.KAFKA_TOPIC_PREFIX),
      logger: this.logger,
      metrics: consumerMetrics(this.registry),
      // Lag with no commit for this long fails readiness (kafka-consumer:<group>) and sets the stall gauge.
      stallAfterMs: this.config.KAFKA_CONSUMER_STALL_SECONDS * 1_000,
      readinessChecks: this.readinessChecks,
      handler: (messages) => Promise.resolve({ rejected: applyExperimentMessages(this.store, messages) }),
    });
    await this.consumer.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
  }
}
