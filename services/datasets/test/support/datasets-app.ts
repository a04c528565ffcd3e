import 'reflect-metadata';
import { createServiceApp, KeyDirectory } from '@llmops/platform';
import { type IssuedTestKey, issueTestKey, TEST_KEY_PEPPER, type TestInfra } from '@llmops/testing';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule, datasetsAppOptions } from '../../src/app.module';
import { type DatasetsConfig, loadDatasetsConfig } from '../../src/config/datasets.config';

export interface Answer<T> {
  status: number;
  body: T;
  raw: string;
  headers: Record<string, unknown>;
}

export interface DatasetsTestApp {
  app: NestFastifyApplication;
  config: DatasetsConfig;
  /** A key with every scope in project `default`, sent by default. */
  key: IssuedTestKey;
  /** `key`: the key to send (default: `key`'s); null sends none. */
  request<T = unknown>(
    method: 'GET' | 'POST' | 'DELETE',
    url: string,
    payload?: unknown,
    key?: string | null,
  ): Promise<Answer<T>>;
  close(): Promise<void>;
}

/**
 * The datasets service in this process, on the test's namespace (topics prefixed, own database and
 * consumer group). `env` overrides any variable (e.g. DATASETS_CONSUMER_ENABLED=false).
 */
export async function startDatasets(
  infra: TestInfra,
  env: Record<string, string> = {},
): Promise<DatasetsTestApp> {
  const config = loadDatasetsConfig({
    KAFKA_BROKERS: infra.kafkaBrokers,
    MONGODB_URI: infra.mongoBaseUri,
    MONGODB_DB: infra.dbName,
    KAFKA_TOPIC_PREFIX: infra.topicPrefix,
    KAFKA_TOPIC_PARTITIONS: '2',
    DATASETS_CONSUMER_GROUP: `${infra.id}-datasets`,
    LLMOPS_KEY_PEPPER: TEST_KEY_PEPPER,
    LOG_LEVEL: 'error',
    ...env,
  });
  const key = await issueTestKey(
    { kafkaBrokers: infra.kafkaBrokers, topicPrefix: config.KAFKA_TOPIC_PREFIX },
    { name: 'datasets test key' },
  );
  const app = await createServiceApp(AppModule.forRoot(config) as never, datasetsAppOptions(config));
  await app.init();
  await app.startAllMicroservices();
  await app.getHttpAdapter().getInstance().ready();
  await app.get(KeyDirectory).waitFor(key.keyId);
  const fastify = app.getHttpAdapter().getInstance();
  return {
    app,
    config,
    key,
    async request<T>(method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown, k?: string | null) {
      const presented = k === undefined ? key.key : k;
      const res = await fastify.inject({
        method,
        url,
        headers: presented === null ? {} : { authorization: `Bearer ${presented}` },
        ...(payload === undefined ? {} : { payload: payload as object }),
      });
      let body: unknown = res.body;
      try {
        body = JSON.parse(res.body);
      } catch {
        // not JSON (JSONL downloads, 204)
      }
      return { status: res.statusCode, body: body as T, raw: res.body, headers: res.headers };
    },
    close: () => app.close(),
  };
}
