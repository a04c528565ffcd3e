/**
 * Thin Kafka edge: one consumer group over the four topics, one handler call per partition batch
 * (the platform's KafkaBatchServer: manual commit after success, transient failures retried, poison
 * isolated to the dead-letter topic, a stall probe behind the `kafka-consumer:<group>` readiness
 * check). Generations and feedback are co-partitioned, and the group's assigner keeps their
 * partitions of one number on one member.
 */
import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { TOPICS, topicName } from '@llmops/contracts';
import {
  coPartitionAssigner,
  type ConsumedMessage,
  type KafkaBatchContext,
  type ServiceConsumerOptions,
  type TopicSpec,
} from '@llmops/platform';
import type { AnalyticsConfig } from '../config/analytics.config';
import { ApplyBatchUseCase, type TopicRole } from './apply-batch.usecase';

/** Topics this service creates when missing; generations and feedback need equal partition counts. */
export function analyticsTopicSpecs(prefix: string, configuredPartitions: number): TopicSpec[] {
  const partitions = Math.max(6, configuredPartitions);
  return [
    { name: topicName(TOPICS.exposures, prefix), partitions },
    { name: topicName(TOPICS.generations, prefix), partitions },
    { name: topicName(TOPICS.feedback, prefix), partitions },
    { name: topicName(TOPICS.experiments, prefix), partitions, compacted: true },
    { name: topicName(TOPICS.deadLetter, prefix), partitions },
    // Produced, not consumed (the consumer subscribes to its @EventPatterns only).
    { name: topicName(TOPICS.experimentDecisions, prefix), partitions },
  ];
}

/**
 * Partition batches applied at once. The platform consumer keeps batches of one partition number
 * (the partition state they share) one at a time, so this only overlaps one partition's database
 * writes with another's parsing and planning.
 */
export const AGGREGATION_PARTITIONS_CONCURRENTLY = 4;

/** Names this consumer's handlers apart from the prompt versions consumer's (two groups, one application). */
export const AGGREGATION_TRANSPORT = Symbol('analytics-aggregation');

/** The consumer's options; none when ANALYTICS_CONSUMER_ENABLED is off (a results-only replica). */
export function aggregationConsumer(config: AnalyticsConfig): ServiceConsumerOptions | undefined {
  if (!config.ANALYTICS_CONSUMER_ENABLED) return undefined;
  return {
    transportId: AGGREGATION_TRANSPORT,
    groupId: config.ANALYTICS_CONSUMER_GROUP,
    fromBeginning: config.ANALYTICS_FROM_BEGINNING,
    topicPrefix: config.KAFKA_TOPIC_PREFIX,
    topics: analyticsTopicSpecs(config.KAFKA_TOPIC_PREFIX, config.KAFKA_TOPIC_PARTITIONS),
    deadLetterTopic: topicName(TOPICS.deadLetter, config.KAFKA_TOPIC_PREFIX),
    // Write conflicts and outages are transient (retried while running); anything that fails twice
    // the same way is poison. Most poison never gets here: the use case rejects it in memory.
    maxAttempts: 2,
    retryBackoffMs: 200,
    stallAfterMs: config.KAFKA_CONSUMER_STALL_SECONDS * 1_000,
    consumerConfig: { partitionAssigners: [coPartitionAssigner], maxBytesPerPartition: 4 * 1024 * 1024 },
    partitionsConsumedConcurrently: AGGREGATION_PARTITIONS_CONCURRENTLY,
  };
}

@Controller()
export class AggregationConsumer {
  constructor(private readonly applyBatch: ApplyBatchUseCase) {}

  @EventPattern(TOPICS.exposures, AGGREGATION_TRANSPORT)
  exposures(@Payload() messages: ConsumedMessage[], @Ctx() ctx: KafkaBatchContext) {
    return this.apply('exposures', messages, ctx);
  }

  @EventPattern(TOPICS.generations, AGGREGATION_TRANSPORT)
  generations(@Payload() messages: ConsumedMessage[], @Ctx() ctx: KafkaBatchContext) {
    return this.apply('generations', messages, ctx);
  }

  @EventPattern(TOPICS.feedback, AGGREGATION_TRANSPORT)
  feedback(@Payload() messages: ConsumedMessage[], @Ctx() ctx: KafkaBatchContext) {
    return this.apply('feedback', messages, ctx);
  }

  @EventPattern(TOPICS.experiments, AGGREGATION_TRANSPORT)
  experiments(@Payload() messages: ConsumedMessage[], @Ctx() ctx: KafkaBatchContext) {
    return this.apply('experiments', messages, ctx);
  }

  private apply(role: TopicRole, messages: ConsumedMessage[], ctx: KafkaBatchContext) {
    return this.applyBatch.execute({
      role,
      partition: ctx.getPartition(),
      messages,
      groupJoins: ctx.getGroupJoins(),
    });
  }
}
