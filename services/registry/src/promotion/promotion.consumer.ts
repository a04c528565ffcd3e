/**
 * Automatic promotion of winners: one consumer group shared by the replicas
 * (`REGISTRY_PROMOTION_CONSUMER_GROUP`), reading the experiments topic (where a phase with
 * `decision.autoPromote` starts running: its baseline) and the decisions topic (a `winner`: the
 * compare-and-set move). Both handlers are idempotent, so a redelivered batch or a replay of either
 * topic changes nothing a second time. The group starts from the beginning of the topics the first
 * time it runs, then from its committed offsets.
 */
import {
  type CloudEvent,
  EVENT_TYPES,
  projectOf,
  safeParseEvent,
  TOPICS,
  topicName,
} from '@llmops/contracts';
import type {
  ConsumedMessage,
  KafkaBatchHandlerResult,
  RejectedMessage,
  ServiceConsumerOptions,
} from '@llmops/platform';
import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { RegistryConfig } from '../config/registry.config';
import { registryTopics } from '../outbox/registry-topics';
import { PromoteWinnerUseCase } from './promote-winner.usecase';
import { RecordBaselineUseCase } from './record-baseline.usecase';

/** Names the promotion consumer's handlers apart from the cache consumer's (two groups, one application). */
export const PROMOTION_TRANSPORT = Symbol('registry-promotion');

export const promotionGroup = (config: RegistryConfig): string =>
  config.REGISTRY_PROMOTION_CONSUMER_GROUP ?? `${config.KAFKA_TOPIC_PREFIX}llmops-registry-promotion`;

/** The consumer's options; none when REGISTRY_PROMOTION_CONSUMER_ENABLED is off. */
export function promotionConsumer(config: RegistryConfig): ServiceConsumerOptions | undefined {
  if (!config.REGISTRY_PROMOTION_CONSUMER_ENABLED) return undefined;
  const partitions = config.KAFKA_TOPIC_PARTITIONS;
  return {
    transportId: PROMOTION_TRANSPORT,
    groupId: promotionGroup(config),
    fromBeginning: true,
    topicPrefix: config.KAFKA_TOPIC_PREFIX,
    // Created as their owners create them when the registry starts first.
    topics: [
      { name: topicName(TOPICS.experiments, config.KAFKA_TOPIC_PREFIX), partitions, compacted: true },
      { name: topicName(TOPICS.experimentDecisions, config.KAFKA_TOPIC_PREFIX), partitions },
    ],
    deadLetterTopic: registryTopics(config).deadLetter,
    // Lag with no commit for this long fails readiness (kafka-consumer:<group>) and sets the stall gauge.
    stallAfterMs: config.KAFKA_CONSUMER_STALL_SECONDS * 1_000,
  };
}

type ExperimentEventType =
  | typeof EVENT_TYPES.experimentCreated
  | typeof EVENT_TYPES.experimentUpdated
  | typeof EVENT_TYPES.experimentStatusChanged;
const EXPERIMENT_EVENT_TYPES: readonly string[] = [
  EVENT_TYPES.experimentCreated,
  EVENT_TYPES.experimentUpdated,
  EVENT_TYPES.experimentStatusChanged,
];

@Controller()
export class PromotionConsumer {
  constructor(
    private readonly baselines: RecordBaselineUseCase,
    private readonly promote: PromoteWinnerUseCase,
  ) {}

  @EventPattern(TOPICS.experiments, PROMOTION_TRANSPORT)
  experiments(@Payload() messages: ConsumedMessage[]): Promise<KafkaBatchHandlerResult> {
    return applyInOrder(
      messages,
      (type) => EXPERIMENT_EVENT_TYPES.includes(type),
      (event) => {
        const e = event as CloudEvent<ExperimentEventType>;
        return this.baselines.execute(projectOf(e), e.data.experiment, e.data.changedAt);
      },
    );
  }

  @EventPattern(TOPICS.experimentDecisions, PROMOTION_TRANSPORT)
  decisions(@Payload() messages: ConsumedMessage[]): Promise<KafkaBatchHandlerResult> {
    return applyInOrder(
      messages,
      (type) => type === EVENT_TYPES.experimentDecision,
      (event) => this.promote.execute(event as CloudEvent<typeof EVENT_TYPES.experimentDecision>),
    );
  }
}

/**
 * Applies a partition batch in offset order. Tombstones (null values, e.g. from compaction tooling)
 * and events of other types are skipped; records that are not events of the platform are
 * dead-lettered. A failure propagates, so the platform retries
 * the batch (each step is idempotent).
 */
async function applyInOrder(
  messages: ConsumedMessage[],
  wanted: (type: string) => boolean,
  apply: (event: CloudEvent) => Promise<void>,
): Promise<KafkaBatchHandlerResult> {
  const rejected: RejectedMessage[] = [];
  for (const message of messages) {
    if (message.value === null) continue;
    const parsed = safeParseEvent(message.value, { tolerateUnknownFields: true });
    if (!parsed.ok) rejected.push({ message, error: parsed.error.message });
    else if (wanted(parsed.event.type)) await apply(parsed.event);
  }
  return { rejected };
}
