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
  const partitions = analyticsPartitions(configuredPartitions);
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
 * The topics this consumer reads (one @EventPattern each below), in the order that the waiting
 * batches of one partition number run: experiment events first, then exposures, and generations
 * before feedback, so that a feedback finds the request its generation placed in the same fetch
 * instead of being parked (a parked feedback costs a document, and its delete, until its generation
 * comes). Any order gives the same results; this one writes less.
 */
export const CONSUMED_TOPICS = [TOPICS.experiments, TOPICS.exposures, TOPICS.generations, TOPICS.feedback];

/**
 * Partition batches handed to the handlers at once: every batch one fetch can return (a batch per
 * consumed topic and partition). The platform consumer still applies one batch of a partition number
 * at a time (they share that partition's state), in its lane; the others of that number wait there.
 * kafkajs fetches again only when every batch of a fetch has ended; with a smaller limit, a batch
 * waiting in a busy lane held one of the few slots while other partition numbers had work queued
 * behind it, and the database sat idle (measured in docs/perf/HISTORY.md).
 */
function aggregationBatchesAtOnce(configuredPartitions: number): number {
  return CONSUMED_TOPICS.length * analyticsPartitions(configuredPartitions);
}

/** Partitions of each analytics topic this service creates. */
function analyticsPartitions(configuredPartitions: number): number {
  return Math.max(6, configuredPartitions);
}

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
    partitionsConsumedConcurrently: aggregationBatchesAtOnce(config.KAFKA_TOPIC_PARTITIONS),
    laneOrder: CONSUMED_TOPICS.map((t) => topicName(t, config.KAFKA_TOPIC_PREFIX)),
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
