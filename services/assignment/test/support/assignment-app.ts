/** An in-process assignment service on real Kafka/MongoDB, driven through Fastify inject. */
import 'reflect-metadata';
import { createServiceApp, KeyDirectory } from '@llmops/platform';
import {
  expectEventually,
  type IssuedTestKey,
  issueTestKey,
  TEST_KEY_PEPPER,
  type TestInfra,
} from '@llmops/testing';
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
  /** The key every request sends unless `headers.authorization` says otherwise: every scope in `default`. */
  key: IssuedTestKey;
  /**
   * One request, with `key` unless `headers.authorization` is given (a string replaces it,
   * `undefined` sends none).
   */
  request<T = Record<string, unknown>>(
    method: 'GET' | 'POST' | 'PATCH',
    url: string,
    payload?: unknown,
    headers?: Record<string, string | undefined>,
  ): Promise<Reply<T>>;
  /** Issues a key (to the namespace of this app's Kafka) and waits until this app knows it. */
  issueKey(options?: Parameters<typeof issueTestKey>[1]): Promise<IssuedTestKey>;
  close(): Promise<void>;
}

/**
 * Resolves once the registry at `url` accepts `issued`. The app forwards its callers' keys to the
 * registry, which reads the same keys topic on its own schedule: until it has read a new key,
 * resolving prompt refs with it answers 503. An unreachable registry has nothing to wait for.
 */
async function registryKnows(url: string | undefined, issued: IssuedTestKey): Promise<void> {
  if (url === undefined) return;
  await expectEventually(async () => {
    const res = await fetch(`${url}/v1/prompts`, { headers: issued.header }).catch(() => null);
    await res?.body?.cancel();
    expect(res?.status).not.toBe(401);
  });
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
    LLMOPS_KEY_PEPPER: TEST_KEY_PEPPER,
    ...env,
  });
  // Keys go to the broker the app reads (a test may give it a broker of its own).
  const keyInfra = { kafkaBrokers: config.KAFKA_BROKERS.join(','), topicPrefix: infra.topicPrefix };
  const key = await issueTestKey(keyInfra, { name: 'assignment tests' });
  const app = await createServiceApp(AppModule.forRoot(config) as never, assignmentAppOptions(config));
  await app.init();
  await app.startAllMicroservices();
  const fastify = app.getHttpAdapter().getInstance();
  await fastify.ready();
  const keys = config.AUTH_ENABLED ? app.get(KeyDirectory) : null;
  await keys?.waitFor(key.keyId);
  await registryKnows(env.REGISTRY_URL, key);
  return {
    app,
    key,
    async request<T>(
      method: 'GET' | 'POST' | 'PATCH',
      url: string,
      payload?: unknown,
      headers: Record<string, string | undefined> = {},
    ): Promise<Reply<T>> {
      const sent: Record<string, string> = {};
      for (const [name, value] of Object.entries({ ...key.header, ...headers })) {
        if (value !== undefined) sent[name] = value;
      }
      const res = await fastify.inject({
        method,
        url,
        headers: sent,
        ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
      });
      return {
        status: res.statusCode,
        body: (res.body ? JSON.parse(res.body) : undefined) as T,
        headers: res.headers,
      };
    },
    async issueKey(options) {
      const issued = await issueTestKey(keyInfra, options);
      await keys?.waitFor(issued.keyId);
      await registryKnows(env.REGISTRY_URL, issued);
      return issued;
    },
    close: () => app.close(),
  };
}
