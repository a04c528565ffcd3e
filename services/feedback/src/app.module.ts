import { type DynamicModule, Module } from '@nestjs/common';
import { PlatformModule, type ServiceAppOptions, type TopicSpec } from '@llmops/platform';
import { TOPICS, topicName } from '@llmops/contracts';
import type { FeedbackConfig } from './config/feedback.config';
import { experimentDirectoryConsumer } from './experiments/experiments.consumer';
import { FeedbackModule } from './feedback/feedback.module';
import { GenerationsModule } from './generations/generations.module';

/**
 * The topics this service writes, and the ones it reads, created at boot when missing. Both written
 * topics get the same partition count: they share the key (requestId), so a generation and its
 * feedback land on the same partition number and a downstream join reads them in order. The
 * experiments topic (compacted, as its owner, the assignment service, creates it) exists before the
 * experiment directory's readiness reads its offsets.
 */
export function feedbackTopicSpecs(config: FeedbackConfig): TopicSpec[] {
  const partitions = config.KAFKA_TOPIC_PARTITIONS;
  return [
    ...[TOPICS.generations, TOPICS.feedback].map((base) => ({
      name: topicName(base, config.KAFKA_TOPIC_PREFIX),
      partitions,
    })),
    { name: topicName(TOPICS.experiments, config.KAFKA_TOPIC_PREFIX), partitions, compacted: true },
    { name: topicName(TOPICS.deadLetter, config.KAFKA_TOPIC_PREFIX), partitions },
  ];
}

/** Options for createServiceApp (main.ts and in-process tests use the same). */
export function feedbackAppOptions(config: FeedbackConfig): ServiceAppOptions {
  return {
    title: 'LLMOps feedback ingestion',
    description:
      'Generations and feedback in, durably (202 only after the broker ack), idempotently (deterministic event ids, ' +
      'feedback revisions) and in bulk.',
    // Default for routes without their own limit; the ingestion routes set theirs (feedback.routes.ts,
    // generations.routes.ts).
    bodyLimit: config.FEEDBACK_MAX_BODY_BYTES,
    // The experiments per project, which ingestion checks items against (experiments/).
    consumer: experimentDirectoryConsumer(config),
  };
}

@Module({})
export class AppModule {
  static forRoot(config: FeedbackConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({ config, topics: feedbackTopicSpecs(config) }),
        GenerationsModule,
        FeedbackModule,
      ],
    };
  }
}
