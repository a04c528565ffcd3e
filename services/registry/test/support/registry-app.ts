import 'reflect-metadata';
import { createServiceApp, KeyDirectory } from '@llmops/platform';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type IssuedTestKey, issueTestKey, TEST_KEY_PEPPER, type TestInfra } from '@llmops/testing';
import { AppModule, registryAppOptions } from '../../src/app.module';
import { loadRegistryConfig, type RegistryConfig } from '../../src/config/registry.config';

export interface RegistryTestApp {
  app: NestFastifyApplication;
  config: RegistryConfig;
  /** The key every request sends unless `headers.authorization` says otherwise: every scope in `default`. */
  key: IssuedTestKey;
  /**
   * One request, with `key` unless `headers.authorization` is given (a string replaces it,
   * `undefined` sends none).
   */
  request<T = unknown>(
    method: 'GET' | 'POST' | 'PUT',
    url: string,
    payload?: unknown,
    headers?: Record<string, string | undefined>,
  ): Promise<{ status: number; body: T; raw: string }>;
  /** Issues a key (to this test's namespace) and waits until this instance knows it. */
  issueKey(options?: Parameters<typeof issueTestKey>[1]): Promise<IssuedTestKey>;
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
    LLMOPS_KEY_PEPPER: TEST_KEY_PEPPER,
    // Bursts of writes (concurrency tests) must not meet the per-key limit; limits are tested in the
    // platform and across services.
    RATE_LIMIT_WRITE: '1000000',
    RATE_LIMIT_READ: '1000000',
    REGISTRY_PROMOTION_CONSUMER_GROUP: `${infra.id}-promotion`,
    ...env,
  });
  const key = await issueTestKey(infra, { name: 'registry tests' });
  const app = await createServiceApp(AppModule.forRoot(config) as never, registryAppOptions(config));
  await app.init();
  await app.startAllMicroservices();
  await app.getHttpAdapter().getInstance().ready();
  const keys = config.AUTH_ENABLED ? app.get(KeyDirectory) : null;
  await keys?.waitFor(key.keyId);
  const fastify = app.getHttpAdapter().getInstance();
  return {
    app,
    config,
    key,
    async request<T>(
      method: 'GET' | 'POST' | 'PUT',
      url: string,
      payload?: unknown,
      headers: Record<string, string | undefined> = {},
    ) {
      const sent: Record<string, string> = {};
      for (const [name, value] of Object.entries({ ...key.header, ...headers })) {
        if (value !== undefined) sent[name] = value;
      }
      const res = await fastify.inject({
        method,
        url,
        headers: typeof payload === 'string' ? { 'content-type': 'application/json', ...sent } : sent,
        ...(payload === undefined ? {} : { payload: payload as string | object }),
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
    async issueKey(options) {
      const issued = await issueTestKey(infra, options);
      await keys?.waitFor(issued.keyId);
      return issued;
    },
    close: () => app.close(),
  };
}
