import { DEFAULT_PARTITIONS, TOPICS, topicName } from '@llmops/contracts';
import type { TopicSpec } from '@llmops/platform';
import type { AssignmentConfig } from '../config/assignment.config';

/** Topics this service produces to or consumes from (created at boot when missing). */
export function experimentTopics(
  config: Pick<AssignmentConfig, 'KAFKA_TOPIC_PREFIX' | 'KAFKA_TOPIC_PARTITIONS'>,
): TopicSpec[] {
  const partitions = config.KAFKA_TOPIC_PARTITIONS ?? DEFAULT_PARTITIONS;
  return [
    { name: topicName(TOPICS.experiments, config.KAFKA_TOPIC_PREFIX), partitions, compacted: true },
    { name: topicName(TOPICS.exposures, config.KAFKA_TOPIC_PREFIX), partitions },
    { name: topicName(TOPICS.deadLetter, config.KAFKA_TOPIC_PREFIX), partitions },
  ];
}
