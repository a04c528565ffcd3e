/**
 * Creates a service's Nest application on Fastify with the platform's HTTP conventions:
 * correlation context per request, one JSON body parser for every route (json-body.ts), security
 * headers, the stable error body (also for body-parser errors), request metrics, OpenAPI at /docs
 * and /docs-json (direct routes included), the service's Kafka consumer as a microservice
 * (KafkaBatchServer, its handlers the `@EventPattern` methods of the service's controllers), and
 * graceful shutdown on SIGTERM/SIGINT.
 */
import type { INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { MicroserviceOptions, NestMicroservice } from '@nestjs/microservices';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { installAuth } from '../auth/auth-hook';
import { KeyDirectory } from '../auth/key-directory';
import { type BaseServiceConfig, baseServiceConfig } from '../config/config';
import type { ComponentCheck } from '../health/health';
import { READINESS_CHECKS } from '../health/health.controller';
import { consumerMetrics } from '../kafka/kafka-metrics';
import {
  KafkaBatchServer,
  type KafkaBatchServerOptions,
  RethrowHandlerErrors,
} from '../kafka/kafka-batch.server';
import { CORRELATION_HEADER } from '../logging/context';
import { SERVICE_CONFIG } from '../platform.tokens';
import { instrumentHttp } from '../metrics/http-metrics';
import { METRICS_REGISTRY } from '../metrics/metrics.controller';
import { KAFKA, LOGGER } from '../platform.module';
import { DirectRoutes } from './direct-routes';
import { HttpErrorFilter, sendError } from './http-error.filter';
import { DEFAULT_JSON_MAX_DEPTH, installJsonBodyParser } from './json-body';
import { installMethodNotAllowed } from './method-not-allowed';
import { finalizeOpenApiDocument } from './openapi-schema';
import { installRequestContext } from './request-context';
import { installSecurityHeaders } from './security-headers';

export interface ServiceAppOptions {
  title: string;
  description: string;
  /** Largest accepted request body in bytes (default 1 MiB). Routes may set their own. */
  bodyLimit?: number;
  /** The service's Kafka consumer, when it has one (see connectKafkaConsumer). */
  consumer?: ServiceConsumerOptions;
  /**
   * Further consumers, each in a group of its own. Each consumer of such an application has a
   * `transportId`, and its handlers name it: `@EventPattern(topic, transportId)`.
   */
  consumers?: ServiceConsumerOptions[];
}

/** A consumer's own options; the Kafka client, logger, metrics and readiness come from the platform. */
export type ServiceConsumerOptions = Omit<
  KafkaBatchServerOptions,
  'kafka' | 'logger' | 'metrics' | 'readinessChecks'
>;

/**
 * Nest's FastifyAdapter, except that Nest does not install its own fastify error handler: Nest's
 * turns fastify's errors (malformed JSON, body too large) into plain HttpExceptions, losing the
 * platform's stable codes (`invalid_json`, `payload_too_large`). createServiceApp installs the
 * platform's handler once instead (re-installing it over Nest's made fastify warn FSTWRN004 at
 * every start). Errors of Nest's route handlers go through the Nest filter (HttpErrorFilter), those of
 * direct routes through sendError, which the filter also uses.
 */
class PlatformFastifyAdapter extends FastifyAdapter {
  override setErrorHandler(): ReturnType<FastifyAdapter['setErrorHandler']> {
    return this.getInstance();
  }
}

export async function createServiceApp(
  module: Type<unknown>,
  options: ServiceAppOptions,
): Promise<NestFastifyApplication> {
  // The application's logger, known once Nest has created the application (before any request).
  const late: { logger?: Logger } = {};
  const adapter = new PlatformFastifyAdapter({
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    logger: false,
    requestIdHeader: CORRELATION_HEADER,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // Prompt names and experiment keys may be 128 characters; fastify's default is 100.
    routerOptions: { maxParamLength: 256 },
    // No Nest middleware anywhere (HTTP concerns are fastify hooks): @fastify/middie would still run
    // on every request.
    skipMiddie: true,
    // Errors fastify answers before its hooks run (a badly encoded path): the platform's error
    // body and the caller's correlation id too, instead of fastify's own body.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      if (late.logger) sendError(reply, request, error, late.logger);
      else void reply.code(503).send();
    },
  });
  const fastify = adapter.getInstance();
  installRequestContext(fastify);
  installSecurityHeaders(fastify);

  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    logger: ['error', 'warn'],
    bufferLogs: false,
    // Not Nest's parsers (JSON and form-encoded): the platform's JSON parser serves every route, and
    // a form-encoded or text/plain body, which a browser sends cross-site without a preflight, is a
    // 415 (installJsonBodyParser).
    bodyParser: false,
  });
  const config = app.get<Partial<BaseServiceConfig>>(SERVICE_CONFIG, { strict: false });
  installJsonBodyParser(fastify, {
    maxDepth: config.HTTP_JSON_MAX_DEPTH ?? DEFAULT_JSON_MAX_DEPTH,
  });
  const logger = app.get<Logger>(LOGGER);
  late.logger = logger;
  await installAuth(fastify, {
    directory: app.get(KeyDirectory, { strict: false }) ?? undefined,
    // A module without the platform's config (tests of the platform itself): the defaults.
    config: { ...baseServiceConfig(0, 'service').parse({}), ...config },
    logger,
  });
  installMethodNotAllowed(fastify, logger);
  const registry = app.get<Registry>(METRICS_REGISTRY);
  instrumentHttp(fastify, registry);
  app.useGlobalFilters(new HttpErrorFilter(logger));
  // Errors fastify raises outside route handlers (body parsing, limits): the same error body.
  fastify.setErrorHandler((error, request, reply) => sendError(reply, request, error, logger));

  const doc = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle(options.title)
      .setDescription(options.description)
      .setVersion('1.0')
      .build(),
  );
  app.get(DirectRoutes).document(doc);
  finalizeOpenApiDocument(doc);
  SwaggerModule.setup('docs', app, doc, { jsonDocumentUrl: 'docs-json' });
  for (const consumer of applicationConsumers(options)) connectKafkaConsumer(app, consumer);
  return app;
}

/**
 * The application's consumers (`consumer` and `consumers`). Nest gives a consumer without a
 * transportId every handler, tagged ones included: with more than one consumer, an untagged one
 * would subscribe its group to the other consumers' topics too, so each must then have its own.
 */
export function applicationConsumers(
  options: Pick<ServiceAppOptions, 'title' | 'consumer' | 'consumers'>,
): ServiceConsumerOptions[] {
  const consumers = [options.consumer, ...(options.consumers ?? [])].filter((c) => c !== undefined);
  if (consumers.length > 1 && consumers.some((c) => c.transportId === undefined))
    throw new Error(
      `${options.title}: an application with ${consumers.length} consumers needs a transportId on each (groups ${consumers.map((c) => c.groupId).join(', ')})`,
    );
  return consumers;
}

/**
 * Connects the service's consumer: a KafkaBatchServer on the platform's Kafka client, logger, metrics
 * and readiness checks, serving the `@EventPattern` handlers of the application's controllers. It
 * starts with `app.startAllMicroservices()` (after `app.init()`: see runService) and stops when the
 * application closes, after the HTTP server and before the producer and the database.
 */
export function connectKafkaConsumer(
  app: INestApplication,
  options: ServiceConsumerOptions,
): KafkaBatchServer {
  const strategy = new KafkaBatchServer({
    ...options,
    kafka: app.get(KAFKA),
    logger: app.get<Logger>(LOGGER),
    metrics: consumerMetrics(app.get<Registry>(METRICS_REGISTRY)),
    readinessChecks: app.get<ComponentCheck[]>(READINESS_CHECKS),
  });
  // Handlers are registered at start, so that the filter applies to them; the application's own
  // lifecycle hooks have run by then and must not run again for the microservice.
  const microservice = app.connectMicroservice<MicroserviceOptions>(
    { strategy },
    { deferInitialization: true },
  ) as NestMicroservice;
  microservice.useGlobalFilters(new RethrowHandlerErrors());
  microservice.setIsInitHookCalled(true);
  return strategy;
}

/** Listens, logs where, and closes gracefully on SIGTERM/SIGINT within SHUTDOWN_TIMEOUT_MS. */
export async function runService(app: INestApplication, config: BaseServiceConfig): Promise<void> {
  const logger = app.get<Logger>(LOGGER);
  let closing = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (closing) return;
    closing = true;
    logger.info(
      { signal },
      'signal received: stopping HTTP intake, flushing producers, committing consumers',
    );
    const force = setTimeout(() => {
      logger.error({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'graceful shutdown timed out; exiting');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS);
    force.unref();
    app
      .close()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        logger.error({ err }, 'error during shutdown');
        process.exit(1);
      });
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  await app.init();
  await app.startAllMicroservices();
  await app.listen(config.PORT, config.HOST);
  logger.info({ port: config.PORT, host: config.HOST }, `${config.SERVICE_NAME} listening`);
}
