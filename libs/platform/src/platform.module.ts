/**
 * PlatformModule wires the shared infrastructure into a service: logger, Prometheus registry
 * and /metrics, the Kafka client and micro-batching producer, the MongoDB connection, and
 * /health/live + /health/ready. Lifecycle: the producer connects at start and is flushed and
 * closed after the HTTP server has stopped (onApplicationShutdown), so requests in flight
 * still get their acknowledgements.
 */
import {
  type DynamicModule,
  Global,
  Inject,
  Injectable,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { API_KEYS_PARTITIONS, TOPICS, topicName } from '@llmops/contracts';
import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import type { Logger } from 'pino';
import { AuditTrail } from './auth/audit-trail';
import { KeyDirectory } from './auth/key-directory';
import { type BaseServiceConfig, ConfigError } from './config/config';
import { mongoCheck, type ComponentCheck, ReadinessProbe } from './health/health';
import { HealthController, READINESS_CHECKS, readinessProbeProvider } from './health/health.controller';
import { DirectRoutes } from './http/direct-routes';
import { BatchingProducer } from './kafka/batching-producer';
import { createKafka } from './kafka/kafka-client';
import { PlatformaticTransport } from './kafka/platformatic-transport';
import { producerMetrics } from './kafka/kafka-metrics';
import { ensureTopics, type TopicSpec } from './kafka/topics';
import { createLogger } from './logging/logger';
import { createRegistry } from './metrics/http-metrics';
import { KAFKA, LOGGER, SERVICE_CONFIG, TOPICS_TO_ENSURE } from './platform.tokens';
import { METRICS_REGISTRY, MetricsController } from './metrics/metrics.controller';
import { mongoConnectionModule } from './mongo/mongo-connection';

export { KAFKA, LOGGER, SERVICE_CONFIG, TOPICS_TO_ENSURE } from './platform.tokens';

export interface PlatformModuleOptions {
  config: BaseServiceConfig;
  /** Topics this service produces to or consumes from; created at boot when missing. */
  topics: TopicSpec[];
  /** Whether this service uses MongoDB (all four do; false only for tests of the module). */
  mongo?: boolean;
}

@Injectable()
class PlatformLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(KAFKA) private readonly kafka: Kafka,
    private readonly producer: BatchingProducer,
    @Inject(TOPICS_TO_ENSURE) private readonly topics: TopicSpec[],
    private readonly readiness: ReadinessProbe,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(KeyDirectory) private readonly keys: KeyDirectory | null,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await ensureTopics(this.kafka, this.topics);
    await this.keys?.start();
    await this.producer.connect();
    // The first round starts now, so readiness turns 200 as soon as the dependencies answer.
    this.readiness.start();
  }

  async onApplicationShutdown(signal?: string): Promise<void> {
    this.logger.info({ signal }, 'shutting down: flushing producer');
    await this.readiness.stop();
    await this.keys?.stop();
    await this.producer.close();
    this.logger.info('shutdown complete');
  }
}

@Global()
@Module({})
export class PlatformModule {
  static forRoot(options: PlatformModuleOptions): DynamicModule {
    const { config } = options;
    const logger = createLogger(config.SERVICE_NAME, config.LOG_LEVEL);
    const registry = createRegistry(config.SERVICE_NAME);
    const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID, logger });
    const useMongo = options.mongo ?? true;
    const pepper = config.LLMOPS_KEY_PEPPER;
    if (config.AUTH_ENABLED && !pepper) {
      throw new ConfigError([
        'LLMOPS_KEY_PEPPER: required (at least 32 characters, the same in every service) unless AUTH_ENABLED=false (unset)',
      ]);
    }
    const keys =
      config.AUTH_ENABLED && pepper
        ? new KeyDirectory({
            kafka,
            topicPrefix: config.KAFKA_TOPIC_PREFIX,
            pepper,
            serviceName: config.SERVICE_NAME,
            logger,
          })
        : null;
    // Every service reads the API keys and writes the audit trail.
    const platformTopics: TopicSpec[] = [
      {
        name: topicName(TOPICS.apiKeys, config.KAFKA_TOPIC_PREFIX),
        partitions: API_KEYS_PARTITIONS,
        compacted: true,
      },
      { name: topicName(TOPICS.audit, config.KAFKA_TOPIC_PREFIX), partitions: config.KAFKA_TOPIC_PARTITIONS },
    ];
    const topics = [
      ...options.topics,
      ...platformTopics.filter((p) => !options.topics.some((t) => t.name === p.name)),
    ];
    return {
      module: PlatformModule,
      // The MongoDB connection: @InjectConnection(), and models through MongooseModule.forFeature.
      imports: useMongo ? [mongoConnectionModule(config)] : [],
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: SERVICE_CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
        { provide: METRICS_REGISTRY, useValue: registry },
        { provide: KAFKA, useValue: kafka },
        { provide: TOPICS_TO_ENSURE, useValue: topics },
        { provide: KeyDirectory, useValue: keys },
        AuditTrail,
        {
          provide: BatchingProducer,
          useFactory: () =>
            new BatchingProducer(
              new PlatformaticTransport({
                brokers: config.KAFKA_BROKERS,
                clientId: config.KAFKA_CLIENT_ID,
                sendTimeoutMs: config.KAFKA_PRODUCER_SEND_TIMEOUT_MS,
              }),
              {
                maxBatchMessages: config.KAFKA_PRODUCER_BATCH_SIZE,
                lingerMs: config.KAFKA_PRODUCER_LINGER_MS,
                sendTimeoutMs: config.KAFKA_PRODUCER_SEND_TIMEOUT_MS,
                logger,
                metrics: producerMetrics(registry),
              },
            ),
        },
        {
          provide: READINESS_CHECKS,
          inject: [BatchingProducer, ...(useMongo ? [getConnectionToken()] : [])],
          useFactory: (producer: BatchingProducer, connection?: Connection): ComponentCheck[] => [
            // The client that produces is the one whose reach matters (see the README, "Kafka clients").
            producer.readinessCheck(config.HEALTH_PROBE_TIMEOUT_MS),
            ...(connection ? [mongoCheck(connection, config.HEALTH_PROBE_TIMEOUT_MS)] : []),
            ...(keys ? [keys.readinessCheck] : []),
          ],
        },
        readinessProbeProvider({
          intervalMs: config.HEALTH_PROBE_INTERVAL_MS,
          timeoutMs: config.HEALTH_PROBE_TIMEOUT_MS,
        }),
        PlatformLifecycle,
        DirectRoutes,
      ],
      exports: [
        SERVICE_CONFIG,
        LOGGER,
        METRICS_REGISTRY,
        KAFKA,
        BatchingProducer,
        READINESS_CHECKS,
        ReadinessProbe,
        DirectRoutes,
        KeyDirectory,
        AuditTrail,
      ],
    };
  }
}
