/**
 * Everything the registry acknowledges can be published, and a record that still cannot be
 * published never holds up the outbox. A write whose event would not fit in a Kafka record is
 * refused before the 201. Outbox documents that cannot be published (inserted straight into the
 * registry's database: unreadable, failing the event contract, too large) are retried with backoff
 * a bounded number of times, then quarantined and counted, while the records behind them are
 * published.
 */
import { getConnectionToken } from '@nestjs/mongoose';
import { expectEventually, testInfra } from '@llmops/testing';
import type { Connection } from 'mongoose';
import { OutboxPublisher } from '../src/outbox/outbox.publisher';
import { registryTopics } from '../src/outbox/registry-topics';
import { type RegistryTestApp, startRegistry } from './support/registry-app';
import { readAll } from './support/topic-reader';

const infra = testInfra();
let r: RegistryTestApp;

const MAX_ATTEMPTS = 3;
const POLL_MS = 100;
const MAX_EVENT_BYTES = 64 * 1024;

beforeAll(async () => {
  r = await startRegistry(infra, {
    REGISTRY_OUTBOX_POLL_MS: String(POLL_MS),
    REGISTRY_OUTBOX_MAX_BACKOFF_MS: '400',
    REGISTRY_OUTBOX_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
    // Two records per round: bad records first in line must not hold back the good ones.
    REGISTRY_OUTBOX_BATCH_SIZE: '2',
    REGISTRY_MAX_EVENT_BYTES: String(MAX_EVENT_BYTES),
    REGISTRY_CACHE_CONSUMER_ENABLED: 'false',
  });
}, 60_000);

afterAll(async () => {
  await r?.close();
});

const collection = (name: string) => r.app.get<Connection>(getConnectionToken()).db!.collection(name);
const hashOf = (c: string) => c.repeat(64);

async function quarantinedMetric(kind: string): Promise<number> {
  const res = await r.request<string>('GET', '/metrics');
  const line = res.raw
    .split('\n')
    .find((l) => l.startsWith('llmops_registry_outbox_quarantined_total{') && l.includes(`kind="${kind}"`));
  return line ? Number(line.split(' ').pop()) : 0;
}

it('refuses a spec whose event could not be published with 413 event_too_large, before storing it', async () => {
  // Within the spec limit (256 KiB) and the HTTP schema, but its event exceeds what can be published.
  const res = await r.request<{ error: { code: string; details: { maxBytes: number } } }>(
    'POST',
    '/v1/prompts/too-big/versions',
    { spec: { template: `Summarize {text} ${'x'.repeat(100_000)}`, model: 'm' } },
  );
  expect(res.status).toBe(413);
  expect(res.body.error).toMatchObject({ code: 'event_too_large', details: { maxBytes: MAX_EVENT_BYTES } });
  expect(await collection('prompt_versions').countDocuments({ name: 'too-big' })).toBe(0);
});

it('quarantines outbox records that cannot be published, with backoff, and keeps publishing the rest', async () => {
  const now = new Date(Date.now() - 60_000);
  const version = (name: string, hash: string, specCanonical: string) => ({
    _id: `${name}/${hash}` as never,
    name,
    hash,
    version: 1,
    specCanonical,
    createdAt: now,
    published: false,
  });
  const bad = [
    // Not JSON: the document cannot be read back as a version.
    version('bad-unreadable', hashOf('a'), '{"template":'),
    // Fails the prompt-version-registered contract (a hash is 64 hex characters).
    version('bad-contract', 'not-a-hash', '{"model":"m","template":"t"}'),
    // Too large for a Kafka record.
    version('bad-large', hashOf('c'), JSON.stringify({ model: 'm', template: 'x'.repeat(80_000) })),
  ];
  await collection('prompt_versions').insertMany(bad);
  await collection('prompt_alias_moves').insertOne({
    _id: 'bad-alias/prod/1' as never,
    name: 'bad-alias',
    alias: 'prod',
    rev: 1,
    from: null,
    fromVersion: null,
    to: 'not-a-hash',
    toVersion: 1,
    actor: 'ops',
    movedAt: now,
    published: false,
  });

  // Good writes behind them, through the API.
  const good: string[] = [];
  for (let i = 0; i < 4; i++) {
    const res = await r.request<{ hash: string }>('POST', '/v1/prompts/good/versions', {
      spec: { template: `Good ${i} {x}`, model: 'm' },
    });
    expect(res.status).toBe(201);
    good.push(res.body.hash);
  }
  expect((await r.request('PUT', '/v1/prompts/good/aliases/prod', { ref: '4' })).status).toBe(200);

  await expectEventually(
    async () => {
      const docs = await collection('prompt_versions').find({ name: 'good' }).toArray();
      expect(docs.map((d) => d.published)).toEqual([true, true, true, true]);
      expect(
        (await collection('prompt_alias_moves').findOne({ _id: 'good/prod/1' as never }))?.published,
      ).toBe(true);
      const quarantined = await collection('prompt_versions').countDocuments({ quarantined: true });
      expect(quarantined).toBe(3);
      expect(await collection('prompt_alias_moves').countDocuments({ quarantined: true })).toBe(1);
    },
    { timeoutMs: 20_000, intervalMs: 100 },
  );

  // Each bad record was tried exactly MAX_ATTEMPTS times, waiting between attempts, and is left alone.
  for (const doc of [
    ...(await collection('prompt_versions').find({ quarantined: true }).toArray()),
    ...(await collection('prompt_alias_moves').find({ quarantined: true }).toArray()),
  ]) {
    expect(doc).toMatchObject({ published: false, quarantined: true, publishAttempts: MAX_ATTEMPTS });
    expect(typeof doc.publishError).toBe('string');
    // The last attempt came no earlier than its backoff allowed.
    const lastWait = (doc.lastAttemptAt as Date).getTime() - (doc.nextAttemptAt as Date).getTime();
    expect(lastWait).toBeGreaterThanOrEqual(0);
  }
  const byId = async (id: string) => collection('prompt_versions').findOne({ _id: id as never });
  expect((await byId(`bad-contract/not-a-hash`))?.publishError).toMatch(/data\.hash/);
  expect((await byId(`bad-large/${hashOf('c')}`))?.publishError).toMatch(/at most 65536 bytes/);
  expect((await byId(`bad-unreadable/${hashOf('a')}`))?.publishError).toMatch(/cannot be read/);

  expect(await quarantinedMetric('version')).toBe(3);
  expect(await quarantinedMetric('alias')).toBe(1);

  // More rounds change nothing for them.
  const publisher = r.app.get(OutboxPublisher);
  for (let i = 0; i < 3; i++) await publisher.drainOnce();
  expect(await collection('prompt_versions').countDocuments({ publishAttempts: { $gt: MAX_ATTEMPTS } })).toBe(
    0,
  );
  expect(await quarantinedMetric('version')).toBe(3);

  // Every good event is on its topic; no bad one is.
  const brokers = infra.kafkaBrokers.split(',');
  const topics = registryTopics(r.config);
  const events = await readAll(brokers, topics.versions);
  const ids = new Set(events.map((e) => e.value.id));
  for (const hash of good) expect(ids.has(`prompt-version/good/${hash}`)).toBe(true);
  expect([...ids].filter((id) => id.startsWith('prompt-version/bad-'))).toEqual([]);
  const aliasIds = (await readAll(brokers, topics.aliases)).map((e) => e.value.id);
  expect(aliasIds).toContain('prompt-alias/good/prod/1');
  expect(aliasIds.filter((id) => id.startsWith('prompt-alias/bad-'))).toEqual([]);
}, 60_000);

it('waits between the attempts of a failing record instead of retrying it every round', async () => {
  await collection('prompt_versions').insertOne({
    _id: `bad-backoff/not-a-hash` as never,
    name: 'bad-backoff',
    hash: 'not-a-hash',
    version: 1,
    specCanonical: '{"model":"m","template":"t"}',
    createdAt: new Date(),
    published: false,
  });
  const doc = () => collection('prompt_versions').findOne({ _id: 'bad-backoff/not-a-hash' as never });
  await expectEventually(async () => expect((await doc())?.publishAttempts).toBeGreaterThanOrEqual(1), {
    timeoutMs: 10_000,
    intervalMs: 20,
  });
  const first = await doc();
  expect(first?.publishAttempts).toBe(1);
  // Tried again no earlier than POLL_MS * 2 after the failure, not on the next round.
  expect((first?.nextAttemptAt as Date).getTime() - (first?.lastAttemptAt as Date).getTime()).toBe(
    POLL_MS * 2,
  );
  await expectEventually(async () => expect((await doc())?.quarantined).toBe(true), {
    timeoutMs: 10_000,
    intervalMs: 50,
  });
  const last = await doc();
  expect(last?.publishAttempts).toBe(MAX_ATTEMPTS);
  // Backoffs of 200 ms and 400 ms between the three attempts.
  expect(
    (last?.quarantinedAt as Date).getTime() - (first?.lastAttemptAt as Date).getTime(),
  ).toBeGreaterThanOrEqual(POLL_MS * 2 + POLL_MS * 4);
});

describe('a record the broker refuses', () => {
  let big: RegistryTestApp;

  beforeAll(async () => {
    // The service's own size check is set above the broker's limit (message.max.bytes, 1 MiB), so
    // the oversized record reaches the broker and is refused there.
    big = await startRegistry(
      { ...infra, dbName: `${infra.dbName}_refused` },
      {
        REGISTRY_OUTBOX_POLL_MS: String(POLL_MS),
        REGISTRY_OUTBOX_MAX_BACKOFF_MS: '400',
        REGISTRY_OUTBOX_MAX_ATTEMPTS: '2',
        REGISTRY_MAX_EVENT_BYTES: String(8 * 1024 * 1024),
        KAFKA_PRODUCER_SEND_TIMEOUT_MS: '2000',
        REGISTRY_CACHE_CONSUMER_ENABLED: 'false',
      },
    );
  }, 60_000);

  afterAll(async () => {
    await big?.close();
  });

  it('is found by sending record by record, quarantined, and the records sent with it are published', async () => {
    const versions = big.app.get<Connection>(getConnectionToken()).db!.collection('prompt_versions');
    const hash = hashOf('d');
    await versions.insertOne({
      _id: `refused/${hash}` as never,
      name: 'refused',
      hash,
      version: 1,
      specCanonical: JSON.stringify({ model: 'm', template: 'x'.repeat(1_500_000) }),
      createdAt: new Date(Date.now() - 60_000),
      published: false,
    });
    const good: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await big.request<{ hash: string }>('POST', '/v1/prompts/next/versions', {
        spec: { template: `Next ${i} {x}`, model: 'm' },
      });
      expect(res.status).toBe(201);
      good.push(res.body.hash);
    }
    await expectEventually(
      async () => {
        expect((await versions.findOne({ _id: `refused/${hash}` as never }))?.quarantined).toBe(true);
        const docs = await versions.find({ name: 'next' }).toArray();
        expect(docs.map((d) => d.published)).toEqual([true, true, true]);
      },
      { timeoutMs: 40_000, intervalMs: 200 },
    );
    expect((await versions.findOne({ _id: `refused/${hash}` as never }))?.publishAttempts).toBe(2);
    const ids = new Set(
      (await readAll(infra.kafkaBrokers.split(','), registryTopics(big.config).versions)).map(
        (e) => e.value.id,
      ),
    );
    for (const h of good) expect(ids.has(`prompt-version/next/${h}`)).toBe(true);
    expect(ids.has(`prompt-version/refused/${hash}`)).toBe(false);
  }, 60_000);
});
