/**
 * Every service boots as a real process against the real infrastructure: /health/ready is 200,
 * then 503 naming `mongodb` once its database is stopped; SIGTERM shuts it down cleanly (exit 0).
 */
import { generateApiKey } from '@llmops/hashing';
import { expectEventually, type DedicatedMongo, startDedicatedMongo, testInfra } from '@llmops/testing';
import { type ApiKey, apiKey, IdentityClient } from '../support/keys';
import {
  httpJson,
  SERVICE_NAMES as NAMES,
  type ServiceName,
  type ServiceProcess,
  startServiceProcess,
} from '../support/service-process';

describe('service readiness against real Kafka and MongoDB', () => {
  const infra = testInfra();
  let mongo: DedicatedMongo;
  const services: ServiceProcess[] = [];
  const admin = apiKey(generateApiKey().key, 'default');

  beforeAll(async () => {
    mongo = await startDedicatedMongo(`readiness-${infra.id}`);
    for (const name of NAMES) {
      services.push(
        await startServiceProcess(name, {
          KAFKA_BROKERS: infra.kafkaBrokers,
          KAFKA_TOPIC_PREFIX: infra.topicPrefix,
          MONGODB_URI: mongo.uri,
          MONGODB_DB: `${infra.dbName}_${name}`,
          ANALYTICS_CONSUMER_GROUP: `${infra.id}-analytics`,
          IDENTITY_AUDIT_CONSUMER_GROUP: `${infra.id}-identity-audit`,
          DATASETS_CONSUMER_GROUP: `${infra.id}-datasets`,
          ...(name === 'identity' ? { LLMOPS_ADMIN_KEY: admin.key } : {}),
        }),
      );
    }
  });

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop('SIGKILL')));
    await mongo?.destroy();
  });

  it('every service reports ready with kafka and mongodb up', async () => {
    for (const s of services) {
      await expectEventually(
        async () => {
          const res = await httpJson(`${s.url}/health/ready`);
          expect({ service: s.name, status: res.status }).toEqual({ service: s.name, status: 200 });
          expect(res.body).toMatchObject({
            status: 'ok',
            info: { kafka: { status: 'up' }, mongodb: { status: 'up' } },
          });
        },
        { timeoutMs: 90_000, intervalMs: 500 },
      ).catch((err: Error) => {
        err.message += `\n--- ${s.name} output ---\n${s.output().slice(-4000)}`;
        throw err;
      });
      const live = await httpJson(`${s.url}/health/live`);
      expect(live.status).toBe(200);
    }
  });

  let writer: ApiKey;

  it('a key created through identity writes at the registry and the datasets service while the database is up', async () => {
    const byName = new Map(services.map((s) => [s.name as ServiceName, s]));
    const identity = new IdentityClient(byName.get('identity')!.url, admin, byName);
    writer = await identity.createKey('default', {
      name: 'readiness writer',
      scopes: ['prompts:write', 'datasets:write'],
    });
    const registry = byName.get('registry')!;
    const write = await httpJson(`${registry.url}/v1/prompts/before-outage/versions`, {
      method: 'POST',
      headers: { ...writer.header, 'content-type': 'application/json' },
      body: JSON.stringify({ spec: { template: 'Summarize: {text}', model: 'm' } }),
    });
    expect(write.status).toBe(201);
    const dataset = await httpJson(`${byName.get('datasets')!.url}/v1/datasets`, {
      method: 'POST',
      headers: { ...writer.header, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'before-outage', format: 'chat' }),
    });
    expect(dataset.status).toBe(201);
  });

  it('readiness turns 503 naming mongodb when the database is stopped', async () => {
    await mongo.stop();
    for (const s of services) {
      await expectEventually(
        async () => {
          const res = await httpJson(`${s.url}/health/ready`);
          expect({ service: s.name, status: res.status }).toEqual({ service: s.name, status: 503 });
          expect(res.body).toMatchObject({
            status: 'error',
            error: { mongodb: { status: 'down' } },
            failing: ['mongodb'],
          });
        },
        { timeoutMs: 30_000, intervalMs: 500 },
      );
      // Liveness does not depend on the database: an outage must not restart healthy pods.
      expect((await httpJson(`${s.url}/health/live`)).status).toBe(200);
    }
    // A write that needs the database says so (503 + Retry-After), never a bare 500.
    const registry = services.find((s) => s.name === 'registry')!;
    const write = await httpJson(`${registry.url}/v1/prompts/outage/versions`, {
      method: 'POST',
      headers: { ...writer.header, 'content-type': 'application/json' },
      body: JSON.stringify({ spec: { template: 'Summarize: {text}', model: 'm' } }),
    });
    expect({ status: write.status, body: write.body }).toMatchObject({
      status: 503,
      body: { error: { code: 'database_unavailable' } },
    });
    expect(write.headers.get('retry-after')).toBe('5');
    const datasets = services.find((s) => s.name === 'datasets')!;
    const dataset = await httpJson(`${datasets.url}/v1/datasets`, {
      method: 'POST',
      headers: { ...writer.header, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'outage', format: 'chat' }),
    });
    expect({ status: dataset.status, body: dataset.body }).toMatchObject({
      status: 503,
      body: { error: { code: 'database_unavailable' } },
    });
    expect(dataset.headers.get('retry-after')).toBe('5');
  });

  it('SIGTERM shuts every service down cleanly', async () => {
    const codes = await Promise.all(services.map((s) => s.stop('SIGTERM')));
    expect(codes).toEqual(NAMES.map(() => 0));
  });
});
