import 'reflect-metadata';
import { createServiceApp } from '@llmops/platform';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { TestInfra } from '@llmops/testing';
import { AppModule, registryAppOptions } from '../../src/app.module';
import { loadRegistryConfig, type RegistryConfig } from '../../src/config/registry.config';

export interface RegistryTestApp {
  app: NestFastifyApplication;
  config: RegistryConfig;
  request<T = unknown>(
    method: 'GET' | 'POST' | 'PUT',
    url: string,
    payload?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: T; raw: string }>;
  close(): Promise<void>;
}

export async function startRegistry(
  infra: TestInfra,
  env: Record<string, string> = {},
): Promise<RegistryTestApp> {
  const config = loadRegistryConfig({
    KAFKA_BROKERS: infra.kafkaBrokers,
    MONGODB_URI: infra.mongoBaseUri,
    MONGODB_DB: infra.dbName,
    KAFKA_TOPIC_PREFIX: infra.topicPrefix,
    KAFKA_TOPIC_PARTITIONS: '2',
    LOG_LEVEL: 'error',
    ...env,
  });
  const app = await createServiceApp(AppModule.forRoot(config) as never, registryAppOptions(config));
  await app.init();
  await app.startAllMicroservices();
  await app.getHttpAdapter().getInstance().ready();
  const fastify = app.getHttpAdapter().getInstance();
  return {
    app,
    config,
    async request<T>(
      method: 'GET' | 'POST' | 'PUT',
      url: string,
      payload?: unknown,
      headers?: Record<string, string>,
    ) {
      const res = await fastify.inject({
        method,
        url,
        ...(payload === undefined
          ? {}
          : typeof payload === 'string'
            ? { payload, headers: { 'content-type': 'application/json', ...headers } }
            : { payload: payload as object, headers }),
        ...(payload === undefined && headers ? { headers } : {}),
      });
      const raw = res.body;
      let body: unknown = raw;
      try {
        body = JSON.parse(raw);
      } catch {
        // not JSON
      }
      return { status: res.statusCode, body: body as T, raw };
    },
    close: () => app.close(),
  };
}
