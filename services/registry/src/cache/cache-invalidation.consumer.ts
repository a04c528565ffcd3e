/**
 * Keeps cached alias targets honest across instances: every instance consumes the registry's own
 * topics in a group of its own (`<SERVICE_NAME>-cache-<REGISTRY_INSTANCE_ID>`), so each one sees
 * every alias move (drop that alias) and every new version (drop `latest`). The group starts from
 * the beginning of the topics: re-reading old events only drops entries, and it means no event
 * published after the instance started can be skipped while the group is still joining.
 */
import { EVENT_TYPES, safeParseEvent } from '@llmops/contracts';
import {
  BatchConsumer,
  type ComponentCheck,
  type ConsumedMessage,
  consumerMetrics,
  ensureTopics,
  KAFKA,
  LOGGER,
  METRICS_REGISTRY,
  READINESS_CHECKS,
  type RejectedMessage,
  SERVICE_CONFIG,
} from '@llmops/platform';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { RegistryConfig } from '../config/registry.config';
import { LATEST_ALIAS } from '../domain/ref';
import { registryTopics, registryTopicSpecs } from '../outbox/registry-topics';
import { RegistryCache } from './registry-cache';

@Injectable()
export class CacheInvalidationConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private consumer?: BatchConsumer;

  constructor(
    private readonly cache: RegistryCache,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(SERVICE_CONFIG) private readonly config: RegistryConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    @Inject(READINESS_CHECKS) private readonly readinessChecks: ComponentCheck[],
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.REGISTRY_CACHE_CONSUMER_ENABLED) return;
    // The platform creates the topics at bootstrap too, but hook order across modules is not ours to rely on.
    await ensureTopics(this.kafka, registryTopicSpecs(this.config));
    const topics = registryTopics(this.config);
    this.consumer = new BatchConsumer(this.kafka, {
      groupId: `${this.config.SERVICE_NAME}-cache-${this.config.REGISTRY_INSTANCE_ID}`,
      topics: [topics.versions, topics.aliases],
      fromBeginning: true,
      deadLetterTopic: topics.deadLetter,
      logger: this.logger,
      metrics: consumerMetrics(this.registry),
      // Lag with no commit for this long fails readiness (kafka-consumer:<group>) and sets the stall gauge.
      stallAfterMs: this.config.KAFKA_CONSUMER_STALL_SECONDS * 1_000,
      readinessChecks: this.readinessChecks,
      handler: async (messages) => ({ rejected: this.handle(messages) }),
    });
    await this.consumer.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
  }

  /** Applies a batch; returns the messages that are not registry events (dead-lettered). */
  handle(messages: ConsumedMessage[]): RejectedMessage[] {
    const rejected: RejectedMessage[] = [];
    for (const message of messages) {
      const parsed = safeParseEvent(message.value ?? '', { tolerateUnknownFields: true });
      if (!parsed.ok) {
        rejected.push({ message, error: parsed.error.message });
        continue;
      }
      const event = parsed.event;
      if (event.type === EVENT_TYPES.promptAliasMoved)
        this.cache.invalidateAlias(event.data.name, event.data.alias);
      else if (event.type === EVENT_TYPES.promptVersionRegistered)
        this.cache.invalidateAlias(event.data.name, LATEST_ALIAS);
    }
    return rejected;
  }
}
