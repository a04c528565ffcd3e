import 'reflect-metadata';
import { createServiceApp, KeyDirectory } from '@llmops/platform';
import { type IssuedTestKey, issueTestKey, TEST_KEY_PEPPER, type TestInfra } from '@llmops/testing';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule, identityAppOptions } from '../../src/app.module';
import { type IdentityConfig, loadIdentityConfig } from '../../src/config/identity.config';

export interface Answer<T> {
  status: number;
  body: T;
  raw: string;
  headers: Record<string, unknown>;
}

export interface IdentityTestApp {
  app: NestFastifyApplication;
  config: IdentityConfig;
  /** A key with every scope (platform:admin included) in project `default`, sent by default. */
  admin: IssuedTestKey;
  /** `key`: the key to send (default: `admin`'s); null sends none. */
  request<T = unknown>(
    method: 'GET' | 'POST' | 'DELETE',
    url: string,
    payload?: unknown,
    key?: string | null,
  ): Promise<Answer<T>>;
  close(): Promise<void>;
}

/** `beforeInit`: runs on the created app before its boot (e.g. to hold a provider's publish). */
export async function startIdentity(
  infra: TestInfra,
  env: Record<string, string> = {},
  beforeInit?: (app: NestFastifyApplication) => void,
): Promise<IdentityTestApp> {
  const config = loadIdentityConfig({
    KAFKA_BROKERS: infra.kafkaBrokers,
    MONGODB_URI: infra.mongoBaseUri,
    MONGODB_DB: infra.dbName,
    KAFKA_TOPIC_PREFIX: infra.topicPrefix,
    KAFKA_TOPIC_PARTITIONS: '2',
    IDENTITY_AUDIT_CONSUMER_GROUP: `${infra.id}-audit`,
    LLMOPS_KEY_PEPPER: TEST_KEY_PEPPER,
    LOG_LEVEL: 'error',
    ...env,
  });
  const admin = await issueTestKey(
    { kafkaBrokers: infra.kafkaBrokers, topicPrefix: config.KAFKA_TOPIC_PREFIX },
    { name: 'test platform admin' },
  );
  const app = await createServiceApp(AppModule.forRoot(config) as never, identityAppOptions(config));
  beforeInit?.(app);
  await app.init();
  await app.startAllMicroservices();
  await app.getHttpAdapter().getInstance().ready();
  await app.get(KeyDirectory).waitFor(admin.keyId);
  const fastify = app.getHttpAdapter().getInstance();
  return {
    app,
    config,
    admin,
    async request<T>(method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown, key?: string | null) {
      const presented = key === undefined ? admin.key : key;
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
        // not JSON (204)
      }
      return { status: res.statusCode, body: body as T, raw: res.body, headers: res.headers };
    },
    close: () => app.close(),
  };
}
