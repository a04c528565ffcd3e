/**
 * Consumes the registry's prompt versions (`llmops.prompt-versions.v1`) in a group of its own,
 * shared by every replica, from the beginning of the topic: each version's settings are stored once
 * per (project, hash), and re-reading the topic changes nothing.
 */
import { EVENT_TYPES, projectOf, safeParseEvent, TOPICS, topicName } from '@llmops/contracts';
import type {
  ConsumedMessage,
  KafkaBatchHandlerResult,
  RejectedMessage,
  ServiceConsumerOptions,
} from '@llmops/platform';
import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { AnalyticsConfig } from '../config/analytics.config';
import { RecordPromptSettingsUseCase } from './record-prompt-settings.usecase';

/** Names this consumer's handlers apart from the aggregation consumer's (two groups, one application). */
export const PROMPT_VERSIONS_TRANSPORT = Symbol('analytics-prompt-versions');

/** The consumer's options; none when ANALYTICS_CONSUMER_ENABLED is off (a results-only replica). */
export function promptVersionsConsumer(config: AnalyticsConfig): ServiceConsumerOptions | undefined {
  if (!config.ANALYTICS_CONSUMER_ENABLED) return undefined;
  return {
    transportId: PROMPT_VERSIONS_TRANSPORT,
    groupId: config.ANALYTICS_PROMPTS_CONSUMER_GROUP || `${config.ANALYTICS_CONSUMER_GROUP}-prompts`,
    // Versions registered before the group existed are the ones experiments use.
    fromBeginning: true,
    topicPrefix: config.KAFKA_TOPIC_PREFIX,
    topics: [
      {
        name: topicName(TOPICS.promptVersions, config.KAFKA_TOPIC_PREFIX),
        partitions: config.KAFKA_TOPIC_PARTITIONS,
      },
    ],
    deadLetterTopic: topicName(TOPICS.deadLetter, config.KAFKA_TOPIC_PREFIX),
    stallAfterMs: config.KAFKA_CONSUMER_STALL_SECONDS * 1_000,
  };
}

@Controller()
export class PromptVersionsConsumer {
  constructor(private readonly recordSettings: RecordPromptSettingsUseCase) {}

  /** Stores a partition batch's versions; records that are not version events are dead-lettered. */
  @EventPattern(TOPICS.promptVersions, PROMPT_VERSIONS_TRANSPORT)
  async versions(@Payload() messages: ConsumedMessage[]): Promise<KafkaBatchHandlerResult> {
    const rejected: RejectedMessage[] = [];
    const versions: Parameters<RecordPromptSettingsUseCase['execute']>[0] = [];
    for (const message of messages) {
      if (message.value === null) continue;
      const parsed = safeParseEvent(message.value, { tolerateUnknownFields: true });
      if (!parsed.ok) rejected.push({ message, error: parsed.error.message });
      else if (parsed.event.type !== EVENT_TYPES.promptVersionRegistered)
        rejected.push({
          message,
          error: `unexpected event type ${parsed.event.type} on the prompt versions topic`,
        });
      else versions.push({ project: projectOf(parsed.event), data: parsed.event.data });
    }
    await this.recordSettings.execute(versions);
    return { rejected };
  }
}
