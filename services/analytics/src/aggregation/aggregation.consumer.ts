/**
 * Thin Kafka edge: one consumer group over the four topics, one handler call per partition batch
 * (platform BatchConsumer: manual commit after success, transient failures retried, poison isolated
 * to the dead-letter topic, a stall probe behind the `kafka-consumer:<group>` readiness check).
 */
import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import { TOPICS, topicName } from '@llmops/contracts';
import {
  BatchConsumer,
  type BatchContext,
  type ComponentCheck,
  type ConsumedMessage,
  consumerMetrics,
  ensureTopics,
  KAFKA,
  LOGGER,
  METRICS_REGISTRY,
  READINESS_CHECKS,
  SERVICE_CONFIG,
  type TopicSpec,
} from '@llmops/platform';
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { AnalyticsConfig } from '../config/analytics.config';
import { ApplyBatchUseCase, type TopicRole } from './apply-batch.usecase';
import { coPartitionAssigner } from './co-partition-assigner';

/** Topics this service creates when missing; generations and feedback need equal partition counts. */
export function analyticsTopicSpecs(prefix: string, configuredPartitions: number): TopicSpec[] {
  const partitions = Math.max(6, configuredPartitions);
  return [
    { name: topicName(TOPICS.exposures, prefix), partitions },
    { name: topicName(TOPICS.generations, prefix), partitions },
    { name: topicName(TOPICS.feedback, prefix), partitions },
    { name: topicName(TOPICS.experiments, prefix), partitions, compacted: true },
    { name: topicName(TOPICS.deadLetter, prefix), partitions },
  ];
}

export function analyticsTopics(prefix: string): Record<TopicRole, string> {
  return {
    x: topicName(TOPICS.exposures, prefix),
    g: topicName(TOPICS.generations, prefix),
    f: topicName(TOPICS.feedback, prefix),
    e: topicName(TOPICS.experiments, prefix),
  };
}

@Injectable()
export class AggregationConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private consumer?: BatchConsumer;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: AnalyticsConfig,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    @Inject(READINESS_CHECKS) private readonly readinessChecks: ComponentCheck[],
    private readonly applyBatch: ApplyBatchUseCase,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.ANALYTICS_CONSUMER_ENABLED) return;
    // Subscribing before the topics exist would let the broker auto-create them with 1 partition.
    await ensureTopics(
      this.kafka,
      analyticsTopicSpecs(this.config.KAFKA_TOPIC_PREFIX, this.config.KAFKA_TOPIC_PARTITIONS),
    );
    const topics = analyticsTopics(this.config.KAFKA_TOPIC_PREFIX);
    const roleOf = new Map<string, TopicRole>(
      Object.entries(topics).map(([role, name]) => [name, role as TopicRole]),
    );
    this.consumer = new BatchConsumer(this.kafka, {
      groupId: this.config.ANALYTICS_CONSUMER_GROUP,
      topics: Object.values(topics),
      fromBeginning: this.config.ANALYTICS_FROM_BEGINNING,
      deadLetterTopic: topicName(TOPICS.deadLetter, this.config.KAFKA_TOPIC_PREFIX),
      logger: this.logger,
      metrics: consumerMetrics(this.registry),
      // Write conflicts and outages are transient (retried while running); anything that fails twice
      // the same way is poison. Most poison never gets here: the use case rejects it in memory.
      maxAttempts: 2,
      retryBackoffMs: 200,
      stallAfterMs: this.config.KAFKA_CONSUMER_STALL_SECONDS * 1_000,
      readinessChecks: this.readinessChecks,
      consumerConfig: { partitionAssigners: [coPartitionAssigner], maxBytesPerPartition: 4 * 1024 * 1024 },
      handler: (messages: ConsumedMessage[], ctx: BatchContext) => {
        const role = roleOf.get(ctx.topic);
        if (!role) throw new Error(`not subscribed to ${ctx.topic}`);
        return this.applyBatch.execute({ role, partition: ctx.partition, messages });
      },
    });
    await this.consumer.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
  }
}
