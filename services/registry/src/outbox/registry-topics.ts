import { TOPICS, topicName } from '@llmops/contracts';
import type { TopicSpec } from '@llmops/platform';
import type { RegistryConfig } from '../config/registry.config';

export interface RegistryTopics {
  versions: string;
  aliases: string;
  deadLetter: string;
  /** The platform's audit trail (created by the platform module). */
  audit: string;
}

export function registryTopics(config: Pick<RegistryConfig, 'KAFKA_TOPIC_PREFIX'>): RegistryTopics {
  return {
    versions: topicName(TOPICS.promptVersions, config.KAFKA_TOPIC_PREFIX),
    aliases: topicName(TOPICS.promptAliases, config.KAFKA_TOPIC_PREFIX),
    deadLetter: topicName(TOPICS.deadLetter, config.KAFKA_TOPIC_PREFIX),
    audit: topicName(TOPICS.audit, config.KAFKA_TOPIC_PREFIX),
  };
}

/** Created at boot when missing. */
export function registryTopicSpecs(config: RegistryConfig): TopicSpec[] {
  const t = registryTopics(config);
  return [t.versions, t.aliases, t.deadLetter].map((name) => ({
    name,
    partitions: config.KAFKA_TOPIC_PARTITIONS,
  }));
}
