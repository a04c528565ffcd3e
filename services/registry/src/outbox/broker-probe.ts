/**
 * Is the broker reachable right now? The outbox publisher asks before every send: a send started
 * while the broker is down can outlive the producer's timeout inside kafkajs' retries and still be
 * delivered when the broker returns, after the publisher has given up on it and queued a second
 * copy. Probing first keeps sends out of outages, so the usual outage gives no duplicates; the
 * remaining race (the broker dies mid-send) is covered by deterministic event ids.
 */
import { createKafka, KAFKA, LOGGER, SERVICE_CONFIG } from '@llmops/platform';
import { Inject, Injectable } from '@nestjs/common';
import { type Kafka, logLevel } from 'kafkajs';
import type { Logger } from 'pino';
import type { RegistryConfig } from '../config/registry.config';

@Injectable()
export class BrokerProbe {
  private readonly kafka: Kafka;

  constructor(
    @Inject(SERVICE_CONFIG) config: RegistryConfig,
    @Inject(LOGGER) logger: Logger,
    @Inject(KAFKA) _shared: Kafka,
  ) {
    this.kafka = createKafka({
      brokers: config.KAFKA_BROKERS,
      clientId: `${config.KAFKA_CLIENT_ID}-probe`,
      logger,
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1_000,
      requestTimeout: 2_000,
      retry: { retries: 0 },
    });
  }

  /** Resolves when every broker holding `topics` answers a metadata request; rejects otherwise. */
  async check(topics: string[]): Promise<void> {
    const admin = this.kafka.admin({ retry: { retries: 0 } });
    try {
      await admin.connect();
      await admin.fetchTopicMetadata({ topics });
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}
