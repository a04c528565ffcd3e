/**
 * Feeds the ExperimentDirectory from the compacted experiments topic. Every replica reads the
 * whole topic at every start, in a consumer group of its own, new at each start: a shared group
 * would split the partitions between replicas, and a group that kept its offsets across restarts
 * would skip what the previous process read.
 */
import { randomUUID } from 'node:crypto';
import { TOPICS, topicName } from '@llmops/contracts';
import type { ConsumedMessage, ServiceConsumerOptions } from '@llmops/platform';
import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { FeedbackConfig } from '../config/feedback.config';
import { ExperimentDirectory } from './experiment-directory';

/** The consumer's options (createServiceApp's `consumer`); the topics exist (feedbackTopicSpecs). */
export function experimentDirectoryConsumer(config: FeedbackConfig): ServiceConsumerOptions {
  return {
    groupId: `${config.KAFKA_CLIENT_ID}.experiment-directory.${randomUUID()}`,
    fromBeginning: true,
    topicPrefix: config.KAFKA_TOPIC_PREFIX,
    deadLetterTopic: topicName(TOPICS.deadLetter, config.KAFKA_TOPIC_PREFIX),
    // Lag with no commit for this long fails readiness (kafka-consumer:<group>) and sets the stall gauge.
    stallAfterMs: config.KAFKA_CONSUMER_STALL_SECONDS * 1_000,
  };
}

@Controller()
export class ExperimentsConsumer {
  constructor(private readonly directory: ExperimentDirectory) {}

  @EventPattern(TOPICS.experiments)
  experiments(@Payload() messages: ConsumedMessage[]): void {
    this.directory.apply(messages);
  }
}
