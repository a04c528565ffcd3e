/**
 * Creates a service's Nest application on Fastify with the platform's HTTP conventions:
 * correlation context per request, the stable error body (also for body-parser errors),
 * request metrics, OpenAPI at /docs and /docs-json, and graceful shutdown on SIGTERM/SIGINT.
 */
import type { INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { BaseServiceConfig } from '../config/config';
import { CORRELATION_HEADER, newContext, runWithContext, TRACEPARENT_HEADER } from '../logging/context';
import { instrumentHttp } from '../metrics/http-metrics';
import { METRICS_REGISTRY } from '../metrics/metrics.controller';
import { LOGGER } from '../platform.module';
import { HttpErrorFilter } from './http-error.filter';

export interface ServiceAppOptions {
  title: string;
  description: string;
  /** Largest accepted request body in bytes (default 1 MiB). Routes may set their own. */
  bodyLimit?: number;
}

export async function createServiceApp(
  module: Type<unknown>,
  options: ServiceAppOptions,
): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
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
  });
  const fastify = adapter.getInstance();
  fastify.addHook('onRequest', (request, reply, done) => {
    const header = request.headers[CORRELATION_HEADER];
    const parent = request.headers[TRACEPARENT_HEADER];
    const ctx = newContext(
      typeof header === 'string' ? header : undefined,
      typeof parent === 'string' ? parent : undefined,
    );
    void reply.header(CORRELATION_HEADER, ctx.correlationId);
    runWithContext(ctx, done);
  });

  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, {
    logger: ['error', 'warn'],
    bufferLogs: false,
    // Fastify's own JSON parser (as a bare fastify app has). Nest's replacement reads the body as a
    // Buffer and builds a new parser function per request; JSON is the only body type we accept.
    bodyParser: false,
  });
  const logger = app.get<Logger>(LOGGER);
  const registry = app.get<Registry>(METRICS_REGISTRY);
  instrumentHttp(fastify, registry);
  app.useGlobalFilters(new HttpErrorFilter(logger));

  const doc = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle(options.title)
      .setDescription(options.description)
      .setVersion('1.0')
      .build(),
  );
  SwaggerModule.setup('docs', app, doc, { jsonDocumentUrl: 'docs-json' });
  return app;
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
  await app.listen(config.PORT, config.HOST);
  logger.info({ port: config.PORT, host: config.HOST }, `${config.SERVICE_NAME} listening`);
}
