/**
 * The outbox under a broker outage, on a Kafka of this test's own: with the broker stopped a
 * registration and an alias move still succeed (the events wait in MongoDB), and after the broker
 * is back each event is on its topic exactly once.
 */
import { getConnectionToken } from '@nestjs/mongoose';
import { type DedicatedKafka, expectEventually, startDedicatedKafka, testInfra } from '@llmops/testing';
import type { Connection } from 'mongoose';
import { registryTopics } from '../src/outbox/registry-topics';
import { type RegistryTestApp, startRegistry } from './support/registry-app';
import { readAll } from './support/topic-reader';

const infra = testInfra();
let kafka: DedicatedKafka;
let r: RegistryTestApp;

beforeAll(async () => {
  kafka = await startDedicatedKafka('registry-outbox');
  r = await startRegistry(
    { ...infra, kafkaBrokers: kafka.brokers },
    {
      KAFKA_PRODUCER_SEND_TIMEOUT_MS: '3000',
      REGISTRY_OUTBOX_MAX_BACKOFF_MS: '1000',
      // Only the outbox is under test; the cache consumer would just reconnect in a loop.
      REGISTRY_CACHE_CONSUMER_ENABLED: 'false',
    },
  );
}, 120_000);

afterAll(async () => {
  await r?.close();
  await kafka?.destroy();
}, 60_000);

it('a version registered while the broker is down is published exactly once after it returns', async () => {
  const brokers = kafka.brokers.split(',');
  const topics = registryTopics(r.config);
  const published = (collection: string, id: string) =>
    r.app
      .get<Connection>(getConnectionToken())
      .db!.collection(collection)
      .findOne({ _id: id as never });

  const before = await r.request<{ hash: string }>('POST', '/v1/prompts/outage/versions', {
    spec: { template: 'Before {x}', model: 'm' },
  });
  expect(before.status).toBe(201);
  await expectEventually(async () =>
    expect((await published('prompt_versions', `outage/${before.body.hash}`))?.published).toBe(true),
  );

  await kafka.stop();

  const during = await r.request<{ hash: string; version: number }>('POST', '/v1/prompts/outage/versions', {
    spec: { template: 'During {x}', model: 'm' },
  });
  expect(during.status).toBe(201);
  expect(during.body.version).toBe(2);
  const again = await r.request('POST', '/v1/prompts/outage/versions', {
    spec: { template: 'During {x}', model: 'm' },
  });
  expect(again.status).toBe(200);
  const moved = await r.request('PUT', '/v1/prompts/outage/aliases/prod', { ref: '2' });
  expect(moved.status).toBe(200);
  // Reads keep working from MongoDB and the cache.
  expect((await r.request('GET', '/v1/prompts/outage/versions/prod')).status).toBe(200);
  // Nothing can be acknowledged while the broker is away.
  expect((await published('prompt_versions', `outage/${during.body.hash}`))?.published).toBe(false);

  await kafka.start();

  await expectEventually(
    async () => {
      expect((await published('prompt_versions', `outage/${during.body.hash}`))?.published).toBe(true);
      expect((await published('prompt_alias_moves', 'outage/prod/1'))?.published).toBe(true);
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );

  const versionEvents = await readAll(brokers, topics.versions);
  const ids = versionEvents.map((e) => e.value.id);
  expect(ids.filter((id) => id === `prompt-version/outage/${during.body.hash}`)).toHaveLength(1);
  expect(ids.filter((id) => id === `prompt-version/outage/${before.body.hash}`)).toHaveLength(1);
  expect(versionEvents).toHaveLength(2);

  const aliasEvents = await readAll(brokers, topics.aliases);
  expect(aliasEvents.map((e) => e.value.id)).toEqual(['prompt-alias/outage/prod/1']);
}, 150_000);
