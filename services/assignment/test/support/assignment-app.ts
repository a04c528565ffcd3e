/** An in-process assignment service on real Kafka/MongoDB, driven through Fastify inject. */
import 'reflect-metadata';
import { createServiceApp } from '@llmops/platform';
import type { TestInfra } from '@llmops/testing';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule, assignmentAppOptions } from '../../src/app.module';
import { loadAssignmentConfig } from '../../src/config/assignment.config';

export interface Reply<T = unknown> {
  status: number;
  body: T;
  headers: Record<string, string | string[] | number | undefined>;
}

export interface AssignmentApp {
  app: NestFastifyApplication;
  request<T = Record<string, unknown>>(
    method: 'GET' | 'POST' | 'PATCH',
    url: string,
    payload?: unknown,
    headers?: Record<string, string>,
  ): Promise<Reply<T>>;
  close(): Promise<void>;
}

export async function startAssignmentApp(
  infra: TestInfra,
  env: Record<string, string> = {},
): Promise<AssignmentApp> {
  const config = loadAssignmentConfig({
    MONGODB_URI: infra.mongoBaseUri,
    MONGODB_DB: infra.dbName,
    KAFKA_BROKERS: infra.kafkaBrokers,
    KAFKA_TOPIC_PREFIX: infra.topicPrefix,
    LOG_LEVEL: 'warn',
    KAFKA_PRODUCER_LINGER_MS: '2',
    ...env,
  });
  const app = await createServiceApp(AppModule.forRoot(config) as never, assignmentAppOptions(config));
  await app.init();
  await app.startAllMicroservices();
  const fastify = app.getHttpAdapter().getInstance();
  await fastify.ready();
  return {
    app,
    async request<T>(
      method: 'GET' | 'POST' | 'PATCH',
      url: string,
      payload?: unknown,
      headers: Record<string, string> = {},
    ): Promise<Reply<T>> {
      const res = await fastify.inject({
        method,
        url,
        headers,
        ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
      });
      return {
        status: res.statusCode,
        body: (res.body ? JSON.parse(res.body) : undefined) as T,
        headers: res.headers,
      };
    },
    close: () => app.close(),
  };
}
