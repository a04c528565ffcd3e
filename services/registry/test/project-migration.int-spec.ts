/**
 * Upgrading a registry database written before projects: at boot, every document is adopted into
 * project `default` (the actor an alias move claimed becomes its note), the unique indexes per name
 * give way to ones per project, and an event still pending in the outbox is published with the
 * project. A second boot changes nothing.
 */
import { promptHash } from '@llmops/hashing';
import { testInfra } from '@llmops/testing';
import { mongo } from 'mongoose';
import { registryTopics } from '../src/outbox/registry-topics';
import { type RegistryTestApp, startRegistry } from './support/registry-app';
import { readAll, readTopic } from './support/topic-reader';

const infra = testInfra();
const client = new mongo.MongoClient(infra.mongoBaseUri);
const db = () => client.db(infra.dbName);
let r: RegistryTestApp | undefined;

const SPECS = [
  { template: 'Summarize: {text}', model: 'gpt-4o-mini' },
  { template: 'Summarize briefly: {text}', model: 'gpt-4o-mini' },
];
const [h1, h2] = SPECS.map((s) => promptHash(s).hash);
const T1 = new Date('2026-01-01T00:00:00.000Z');
const T2 = new Date('2026-01-02T00:00:00.000Z');

/** The documents and indexes of the registry as the version before projects left them. */
async function seedLegacyDatabase(): Promise<void> {
  const versions = db().collection('prompt_versions');
  await versions.createIndex({ name: 1, hash: 1 }, { name: 'name_hash_unique', unique: true });
  await versions.createIndex({ name: 1, version: -1 }, { name: 'name_version_unique', unique: true });
  await versions.insertMany(
    [
      { hash: h1, version: 1, createdAt: T1, published: true, metadata: { author: 'ada' } },
      // Still pending in the outbox when the service was stopped for the upgrade.
      { hash: h2, version: 2, createdAt: T2, published: false },
    ].map((v, i) => ({
      _id: `legacy/${v.hash}` as never,
      name: 'legacy',
      specCanonical: promptHash(SPECS[i]).canonical,
      ...v,
    })),
  );
  const moves = db().collection('prompt_alias_moves');
  await moves.createIndex({ name: 1, alias: 1, rev: -1 }, { name: 'name_alias_rev_unique', unique: true });
  await moves.insertOne({
    _id: 'legacy/production/1' as never,
    name: 'legacy',
    alias: 'production',
    rev: 1,
    from: null,
    fromVersion: null,
    to: h1,
    toVersion: 1,
    actor: 'ada',
    movedAt: T2,
    published: true,
  });
  await db()
    .collection('prompts')
    .insertOne({ _id: 'legacy' as never, latestVersion: 2, latestHash: h2, latestCreatedAt: T2 });
  const aliases = db().collection('prompt_aliases');
  await aliases.createIndex({ name: 1 }, { name: 'name' });
  await aliases.insertOne({
    _id: 'legacy/production' as never,
    name: 'legacy',
    alias: 'production',
    hash: h1,
    version: 1,
    rev: 1,
    movedAt: T2,
  });
}

const indexNames = async (collection: string) =>
  (await db().collection(collection).listIndexes().toArray()).map((i) => String(i.name)).sort();

beforeAll(async () => {
  await client.connect();
  await seedLegacyDatabase();
  r = await startRegistry(infra);
}, 60_000);

afterAll(async () => {
  await r?.close();
  await client.close();
});

it('adopts every document into project default and keeps serving it', async () => {
  const app = r!;
  for (const collection of ['prompt_versions', 'prompt_alias_moves', 'prompts', 'prompt_aliases']) {
    expect([collection, await db().collection(collection).countDocuments({ project: 'default' })]).toEqual([
      collection,
      collection === 'prompt_versions' ? 2 : 1,
    ]);
  }
  const production = await app.request<{ hash: string; version: number }>(
    'GET',
    '/v1/prompts/legacy/versions/production',
  );
  expect([production.status, production.body.hash]).toEqual([200, h1]);
  const list = await app.request<{ items: { name: string; aliases: Record<string, unknown> }[] }>(
    'GET',
    '/v1/prompts',
  );
  expect(list.body.items.map((p) => [p.name, Object.keys(p.aliases)])).toEqual([['legacy', ['production']]]);

  // A claimed actor was never authenticated: it is the move's note now.
  const history = await app.request<{ items: Record<string, unknown>[] }>(
    'GET',
    '/v1/prompts/legacy/aliases/production/history',
  );
  expect(history.body.items).toEqual([
    expect.objectContaining({ rev: 1, actor: 'unauthenticated', note: 'ada', to: h1 }),
  ]);
  const latest = await app.request<{ items: { actor: string }[] }>(
    'GET',
    '/v1/prompts/legacy/aliases/latest/history',
  );
  expect(latest.body.items.map((i) => i.actor)).toEqual(['unauthenticated', 'unauthenticated']);
});

it('swaps the unique indexes per name for ones per project', async () => {
  expect(await indexNames('prompt_versions')).toEqual([
    '_id_',
    'project_name_hash_unique',
    'project_name_version_unique',
    'published',
  ]);
  expect(await indexNames('prompt_alias_moves')).toEqual([
    '_id_',
    'project_name_alias_rev_unique',
    'published',
  ]);
  expect(await indexNames('prompt_aliases')).toEqual(['_id_', 'project_name']);

  const app = r!;
  // Numbering goes on in default; the same spec is the same version there.
  const again = await app.request<{ version: number }>('POST', '/v1/prompts/legacy/versions', {
    spec: SPECS[0],
  });
  expect([again.status, again.body.version]).toEqual([200, 1]);
  const third = await app.request<{ version: number }>('POST', '/v1/prompts/legacy/versions', {
    spec: { ...SPECS[0], model: 'gpt-4o' },
  });
  expect([third.status, third.body.version]).toEqual([201, 3]);
  // Another project may now hold the same name and spec (the old index would refuse it).
  const other = await app.issueKey({ project: 'team-a' });
  const theirs = await app.request<{ version: number; hash: string }>(
    'POST',
    '/v1/prompts/legacy/versions',
    { spec: SPECS[0] },
    other.header,
  );
  expect([theirs.status, theirs.body.version, theirs.body.hash]).toEqual([201, 1, h1]);
});

it('publishes the pending event with the project default and no audit record', async () => {
  const brokers = infra.kafkaBrokers.split(',');
  const topics = registryTopics(r!.config);
  const versions = await readTopic(brokers, topics.versions, (records) =>
    records.some((rec) => rec.value.data.hash === h2),
  );
  expect(versions.find((rec) => rec.value.data.hash === h2)?.value).toMatchObject({
    id: `prompt-version/legacy/${h2}`,
    project: 'default',
    data: { name: 'legacy', version: 2 },
  });
  // Only the registrations made with keys (the third version and team-a's) are audited.
  await readTopic(brokers, topics.audit, (records) => records.length >= 2);
  const audit = await readAll(brokers, topics.audit);
  expect(audit.map((rec) => [rec.value.data.project, rec.value.data.details]).sort()).toEqual([
    ['default', { version: 3 }],
    ['team-a', { version: 1 }],
  ]);
});

it('a second boot changes nothing', async () => {
  await r!.close();
  r = await startRegistry(infra);
  const history = await r.request<{ items: Record<string, unknown>[] }>(
    'GET',
    '/v1/prompts/legacy/aliases/production/history',
  );
  expect(history.body.items).toEqual([
    expect.objectContaining({ rev: 1, actor: 'unauthenticated', note: 'ada', to: h1 }),
  ]);
  expect(await db().collection('prompt_versions').countDocuments({ project: 'default' })).toBe(3);
  expect(await indexNames('prompt_versions')).toEqual([
    '_id_',
    'project_name_hash_unique',
    'project_name_version_unique',
    'published',
  ]);
});
