/**
 * Consumes analytics' experiment decisions (`llmops.experiment-decisions.v1`) in a consumer group
 * shared by every replica, so each decision is acted on once (acting twice would change nothing
 * anyway: see ActOnDecisionUseCase). Records of one experiment share a partition, in order.
 */
import {
  DEFAULT_PARTITIONS,
  EVENT_TYPES,
  projectOf,
  safeParseEvent,
  TOPICS,
  topicName,
} from '@llmops/contracts';
import {
  type ConsumedMessage,
  contextFromHeaders,
  type KafkaBatchHandlerResult,
  type RejectedMessage,
  type ServiceConsumerOptions,
} from '@llmops/platform';
import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { AssignmentConfig } from '../config/assignment.config';
import { ActOnDecisionUseCase } from './act-on-decision.usecase';

/** The transport id of the decisions consumer (the application has two consumers). */
export const DECISIONS_CONSUMER = Symbol('assignment.decisions');

export function decisionsConsumer(config: AssignmentConfig): ServiceConsumerOptions {
  const partitions = config.KAFKA_TOPIC_PARTITIONS ?? DEFAULT_PARTITIONS;
  return {
    transportId: DECISIONS_CONSUMER,
    groupId:
      config.ASSIGNMENT_DECISIONS_CONSUMER_GROUP || `${config.KAFKA_TOPIC_PREFIX}llmops-assignment-decisions`,
    // A new group acts on the decisions already published: one about a phase that still runs stops it.
    fromBeginning: true,
    topicPrefix: config.KAFKA_TOPIC_PREFIX,
    topics: [{ name: topicName(TOPICS.experimentDecisions, config.KAFKA_TOPIC_PREFIX), partitions }],
    deadLetterTopic: topicName(TOPICS.deadLetter, config.KAFKA_TOPIC_PREFIX),
    stallAfterMs: config.KAFKA_CONSUMER_STALL_SECONDS * 1_000,
  };
}

@Controller()
export class DecisionsConsumer {
  constructor(private readonly actOnDecision: ActOnDecisionUseCase) {}

  /** Applies a partition batch in order; records that are not decision events are dead-lettered. */
  @EventPattern(TOPICS.experimentDecisions, DECISIONS_CONSUMER)
  async decisions(@Payload() messages: ConsumedMessage[]): Promise<KafkaBatchHandlerResult> {
    const rejected: RejectedMessage[] = [];
    for (const message of messages) {
      if (message.value === null) continue;
      const parsed = safeParseEvent(message.value, { tolerateUnknownFields: true });
      if (!parsed.ok) {
        rejected.push({ message, error: parsed.error.message });
        continue;
      }
      const event = parsed.event;
      if (event.type !== EVENT_TYPES.experimentDecision) {
        rejected.push({ message, error: `unexpected event type ${event.type} on the decisions topic` });
        continue;
      }
      await this.actOnDecision.execute(
        { id: event.id, project: projectOf(event), data: event.data },
        contextFromHeaders(message.headers),
      );
    }
    return { rejected };
  }
}
