/** The topics this service reads and creates, and its consumer's options. */
import { TOPICS, topicName } from '@llmops/contracts';
import { coPartitionAssigner, type ServiceConsumerOptions, type TopicSpec } from '@llmops/platform';
import type { DatasetsConfig } from '../config/datasets.config';

/** Topics this service creates when missing; generations and feedback need equal partition counts. */
export function datasetsTopicSpecs(config: DatasetsConfig): TopicSpec[] {
  const prefix = config.KAFKA_TOPIC_PREFIX;
  const partitions = Math.max(6, config.KAFKA_TOPIC_PARTITIONS);
  return [
    { name: topicName(TOPICS.generations, prefix), partitions },
    { name: topicName(TOPICS.feedback, prefix), partitions },
    { name: topicName(TOPICS.promptAliases, prefix), partitions },
    { name: topicName(TOPICS.deadLetter, prefix), partitions },
    // Produced (snapshot announcements), not consumed.
    { name: topicName(TOPICS.datasetSnapshots, prefix), partitions: config.KAFKA_TOPIC_PARTITIONS },
  ];
}

/** The consumer's options; none when DATASETS_CONSUMER_ENABLED is off (an API-only replica). */
export function materializationConsumer(config: DatasetsConfig): ServiceConsumerOptions | undefined {
  if (!config.DATASETS_CONSUMER_ENABLED) return undefined;
  const prefix = config.KAFKA_TOPIC_PREFIX;
  return {
    groupId: config.DATASETS_CONSUMER_GROUP,
    fromBeginning: config.DATASETS_FROM_BEGINNING,
    topicPrefix: prefix,
    topics: datasetsTopicSpecs(config).filter(
      (t) =>
        t.name !== topicName(TOPICS.deadLetter, prefix) &&
        t.name !== topicName(TOPICS.datasetSnapshots, prefix),
    ),
    deadLetterTopic: topicName(TOPICS.deadLetter, prefix),
    maxAttempts: 2,
    retryBackoffMs: 200,
    stallAfterMs: config.KAFKA_CONSUMER_STALL_SECONDS * 1_000,
    // A batch is one bulk write of up to one upsert per record. Small batches keep each write short:
    // FerretDB applies the updates of a bulk write one by one and stalls on large ones.
    // Generations and feedback partition p on one member: one example is only ever written by one
    // member at a time (FerretDB applies an update as a read-modify-write, so two members updating
    // one document concurrently could lose one of the writes).
    consumerConfig: { partitionAssigners: [coPartitionAssigner], maxBytesPerPartition: 32 * 1024 },
  };
}
