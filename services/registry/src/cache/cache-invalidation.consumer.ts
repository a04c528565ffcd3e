/**
 * Keeps cached alias targets honest across instances: every instance consumes the registry's own
 * topics in a group of its own (`<SERVICE_NAME>-cache-<REGISTRY_INSTANCE_ID>`), so each one sees
 * every alias move (drop that alias) and every new version (drop `latest`), in the event's project
 * (`projectOf`: events written before projects belong to `default`). The group starts from
 * the beginning of the topics: re-reading old events only drops entries, and it means no event
 * published after the instance started can be skipped while the group is still joining.
 */
import {
  type CloudEvent,
  EVENT_TYPES,
  type EventType,
  projectOf,
  safeParseEvent,
  TOPICS,
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
import { LATEST_ALIAS } from '../domain/ref';
import { registryTopics, registryTopicSpecs } from '../outbox/registry-topics';
import { RegistryCache } from './registry-cache';

/** Names the cache consumer's handlers apart from the promotion consumer's (two groups, one application). */
export const CACHE_TRANSPORT = Symbol('registry-cache');

/** The consumer's options; none when REGISTRY_CACHE_CONSUMER_ENABLED is off. */
export function cacheInvalidationConsumer(config: RegistryConfig): ServiceConsumerOptions | undefined {
  if (!config.REGISTRY_CACHE_CONSUMER_ENABLED) return undefined;
  return {
    transportId: CACHE_TRANSPORT,
    groupId: `${config.SERVICE_NAME}-cache-${config.REGISTRY_INSTANCE_ID}`,
    fromBeginning: true,
    topicPrefix: config.KAFKA_TOPIC_PREFIX,
    topics: registryTopicSpecs(config),
    deadLetterTopic: registryTopics(config).deadLetter,
    // Lag with no commit for this long fails readiness (kafka-consumer:<group>) and sets the stall gauge.
    stallAfterMs: config.KAFKA_CONSUMER_STALL_SECONDS * 1_000,
  };
}

@Controller()
export class CacheInvalidationConsumer {
  constructor(private readonly cache: RegistryCache) {}

  @EventPattern(TOPICS.promptVersions, CACHE_TRANSPORT)
  versionRegistered(@Payload() messages: ConsumedMessage[]): KafkaBatchHandlerResult {
    return applyEvents(messages, EVENT_TYPES.promptVersionRegistered, (event) =>
      this.cache.invalidateAlias(projectOf(event), event.data.name, LATEST_ALIAS),
    );
  }

  @EventPattern(TOPICS.promptAliases, CACHE_TRANSPORT)
  aliasMoved(@Payload() messages: ConsumedMessage[]): KafkaBatchHandlerResult {
    return applyEvents(messages, EVENT_TYPES.promptAliasMoved, (event) =>
      this.cache.invalidateAlias(projectOf(event), event.data.name, event.data.alias),
    );
  }
}

/** Applies the events of `type` in a batch; records that are not registry events are dead-lettered. */
function applyEvents<T extends EventType>(
  messages: ConsumedMessage[],
  type: T,
  apply: (event: CloudEvent<T>) => void,
): KafkaBatchHandlerResult {
  const rejected: RejectedMessage[] = [];
  for (const message of messages) {
    const parsed = safeParseEvent(message.value ?? '', { tolerateUnknownFields: true });
    if (!parsed.ok) rejected.push({ message, error: parsed.error.message });
    else if (parsed.event.type === type) apply(parsed.event as CloudEvent<T>);
  }
  return { rejected };
}
