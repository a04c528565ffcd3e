import { type DynamicModule, Module } from '@nestjs/common';
import { PlatformModule, type TopicSpec } from '@llmops/platform';
import { TOPICS, topicName } from '@llmops/contracts';
import type { FeedbackConfig } from './config/feedback.config';
import { FeedbackModule } from './feedback/feedback.module';
import { GenerationsModule } from './generations/generations.module';

/**
 * Both topics get the same partition count: they share the key (requestId), so a generation and its
 * feedback land on the same partition number and a downstream join reads them in order.
 */
export function feedbackTopicSpecs(config: FeedbackConfig): TopicSpec[] {
  return [TOPICS.generations, TOPICS.feedback].map((base) => ({
    name: topicName(base, config.KAFKA_TOPIC_PREFIX),
    partitions: config.KAFKA_TOPIC_PARTITIONS,
  }));
}

/** Options for createServiceApp (main.ts and in-process tests use the same). */
export function feedbackAppOptions(config: FeedbackConfig) {
  return {
    title: 'LLMOps feedback ingestion',
    description:
      'Generations and feedback in, durably (202 only after the broker ack), idempotently (deterministic event ids, ' +
      'feedback revisions) and in bulk.',
    // Default for routes without their own limit; the ingestion routes set theirs (feedback.routes.ts,
    // generations.routes.ts).
    bodyLimit: config.FEEDBACK_MAX_BODY_BYTES,
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
