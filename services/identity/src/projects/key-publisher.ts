/**
 * Publishes full snapshots of API keys to the compacted apiKeys topic (key = keyId), from which
 * every service's KeyDirectory builds its copy. `publish` resolves once Kafka has acknowledged
 * (acks=-1): a write answers only after that, so a 201/204 means every service will see the change.
 * Snapshots are whole and idempotent: publishing a key again (boot, a retried revocation) is harmless.
 */
import {
  type ApiKeyUpdatedData,
  CLOUDEVENTS_CONTENT_TYPE,
  createEvent,
  EVENT_SOURCES,
  EVENT_TYPES,
  HEADER_CONTENT_TYPE,
  serializeEvent,
  TOPICS,
  topicName,
} from '@llmops/contracts';
import {
  BatchingProducer,
  contextHeaders,
  newContext,
  type RequestContext,
  SERVICE_CONFIG,
} from '@llmops/platform';
import { Inject, Injectable } from '@nestjs/common';
import type { IdentityConfig } from '../config/identity.config';
import type { ApiKey } from '../persistence/api-key.repository';

export function keySnapshot(key: ApiKey, projectDeleted: boolean): ApiKeyUpdatedData {
  return {
    keyId: key.keyId,
    project: key.project,
    name: key.name,
    scopes: key.scopes,
    ...(key.aliases ? { aliases: key.aliases } : {}),
    secretHash: key.secretHash,
    createdAt: key.createdAt,
    expiresAt: key.expiresAt,
    revokedAt: key.revokedAt,
    projectDeleted,
  };
}

@Injectable()
export class KeyPublisher {
  readonly topic: string;

  constructor(
    private readonly producer: BatchingProducer,
    @Inject(SERVICE_CONFIG) config: IdentityConfig,
  ) {
    this.topic = topicName(TOPICS.apiKeys, config.KAFKA_TOPIC_PREFIX);
  }

  /** Sends the keys' snapshots; `deleted` says which projects are deleted. */
  async publish(
    keys: readonly ApiKey[],
    deleted: (project: string) => boolean,
    ctx: RequestContext = newContext(),
  ): Promise<void> {
    const headers = { [HEADER_CONTENT_TYPE]: CLOUDEVENTS_CONTENT_TYPE, ...contextHeaders(ctx) };
    await this.producer.send(
      this.topic,
      keys.map((key) => ({
        key: key.keyId,
        value: serializeEvent(
          createEvent(EVENT_TYPES.apiKeyUpdated, keySnapshot(key, deleted(key.project)), {
            source: EVENT_SOURCES.identity,
            project: key.project,
            subject: key.keyId,
          }),
        ),
        headers,
      })),
    );
  }
}
