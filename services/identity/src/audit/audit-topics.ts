import { TOPICS, topicName } from '@llmops/contracts';
import type { ServiceConsumerOptions, TopicSpec } from '@llmops/platform';
import type { IdentityConfig } from '../config/identity.config';

/**
 * Created at boot when missing, besides the platform's own (the API keys topic, with the contract's
 * partition count, and the audit topic): the dead-letter topic of the audit consumer.
 */
export function identityTopicSpecs(config: IdentityConfig): TopicSpec[] {
  return [
    {
      name: topicName(TOPICS.deadLetter, config.KAFKA_TOPIC_PREFIX),
      partitions: config.KAFKA_TOPIC_PARTITIONS,
    },
  ];
}

/**
 * The audit store's consumer: one group shared by the replicas, from the beginning of the topic (a
 * new store fills itself from what the topic retains). Records are stored by event id, so a
 * redelivery after a crash or rebalance stores nothing twice. None when the consumer is disabled.
 */
export function auditConsumer(config: IdentityConfig): ServiceConsumerOptions | undefined {
  if (!config.IDENTITY_AUDIT_CONSUMER_ENABLED) return undefined;
  return {
    groupId: config.IDENTITY_AUDIT_CONSUMER_GROUP,
    fromBeginning: true,
    topicPrefix: config.KAFKA_TOPIC_PREFIX,
    topics: [
      { name: topicName(TOPICS.audit, config.KAFKA_TOPIC_PREFIX), partitions: config.KAFKA_TOPIC_PARTITIONS },
      ...identityTopicSpecs(config),
    ],
    deadLetterTopic: topicName(TOPICS.deadLetter, config.KAFKA_TOPIC_PREFIX),
    // Lag with no commit for this long fails readiness (kafka-consumer:<group>) and sets the stall gauge.
    stallAfterMs: config.KAFKA_CONSUMER_STALL_SECONDS * 1_000,
  };
}
