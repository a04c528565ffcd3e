import { EVENT_TYPES, parseEvent, TOPICS, topicName } from '@llmops/contracts';
import {
  expectEventually,
  issueTestKey,
  startTopicReader,
  type TestInfra,
  testInfra,
  type TopicReader,
} from '@llmops/testing';
import { KeyDirectory } from '@llmops/platform';
import { validate } from '@readme/openapi-parser';
import { getModelToken } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import {
  SNAPSHOT,
  SNAPSHOT_RECORD,
  type SnapshotDoc,
  type SnapshotRecordDoc,
} from '../src/persistence/datasets.schemas';
import { DatasetRepository } from '../src/persistence/dataset.repository';
import { SnapshotRepository } from '../src/persistence/snapshot.repository';
import { type DatasetsTestApp, startDatasets } from './support/datasets-app';
import { seedExamples } from './support/example-seed';

describe('datasets API', () => {
  let infra: TestInfra;
  let svc: DatasetsTestApp;
  let audit: TopicReader;
  let otherKey: string;
  let readOnlyKey: string;

  beforeAll(async () => {
    infra = await testInfra('datasets-api');
    svc = await startDatasets(infra, { DATASETS_CONSUMER_ENABLED: 'false' });
    const target = { kafkaBrokers: infra.kafkaBrokers, topicPrefix: infra.topicPrefix };
    const other = await issueTestKey(target, { name: 'other project', project: 'other-team' });
    const readOnly = await issueTestKey(target, { name: 'reader', scopes: ['datasets:read'] });
    await svc.app.get(KeyDirectory).waitFor(other.keyId);
    await svc.app.get(KeyDirectory).waitFor(readOnly.keyId);
    otherKey = other.key;
    readOnlyKey = readOnly.key;
    audit = await startTopicReader(infra.kafkaBrokers, topicName(TOPICS.audit, infra.topicPrefix));
  }, 120_000);

  afterAll(async () => {
    await audit?.stop();
    await svc?.close();
  });

  /** The audit trail of a resource as the identity service stores it: one entry per event id. */
  const auditActions = (resource: string) => {
    const byId = new Map<string, string>();
    for (const r of audit.records) {
      const e = parseEvent(r.value);
      if (e.type === EVENT_TYPES.auditRecorded && e.data.resource === resource) {
        byId.set(e.id, `${e.data.project}:${e.data.action}`);
      }
    }
    return [...byId.values()];
  };

  it('creates a dataset (201), reads it back as defined, refuses the same name (409), audits the creation', async () => {
    const definition = {
      name: 'support-sft',
      description: 'Corrected support answers',
      format: 'chat',
      filter: { prompt: { name: 'support' }, minRating: 4, scores: { helpful: { min: 0.5 } } },
      split: { validation: 0.1 },
      dedupe: true,
      limit: 1000,
      redact: true,
    };
    const created = await svc.request('POST', '/v1/datasets', definition);
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ ...definition, createdAt: expect.any(String), createdBy: svc.key.keyId });
    const read = await svc.request('GET', '/v1/datasets/support-sft');
    expect(read).toMatchObject({ status: 200, body: created.body });

    const again = await svc.request<{ error: { code: string } }>('POST', '/v1/datasets', {
      name: 'support-sft',
      format: 'eval',
    });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('dataset_exists');
    await expectEventually(() => expect(auditActions('support-sft')).toEqual(['default:dataset.created']));
  });

  it('lists datasets in name order, a page at a time', async () => {
    for (const name of ['list-c', 'list-a', 'list-b']) {
      expect((await svc.request('POST', '/v1/datasets', { name, format: 'chat' })).status).toBe(201);
    }
    const names: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { items: Array<{ name: string }>; nextCursor: string | null } } =
        await svc.request('GET', `/v1/datasets?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      names.push(...page.body.items.map((d) => d.name));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(names.filter((n) => n.startsWith('list-'))).toEqual(['list-a', 'list-b', 'list-c']);
    expect([...names].sort()).toEqual(names);
    const bad = await svc.request<{ error: { code: string } }>('GET', '/v1/datasets?cursor=nope');
    expect(bad.body.error.code).toBe('invalid_cursor');
  });

  it("another project's dataset is a 404 identical to a missing one, and its names do not collide", async () => {
    await svc.request('POST', '/v1/datasets', { name: 'private-set', format: 'chat' });
    const missing = await svc.request('GET', '/v1/datasets/no-such-set', undefined, otherKey);
    const foreign = await svc.request('GET', '/v1/datasets/private-set', undefined, otherKey);
    expect(foreign.status).toBe(404);
    expect(foreign.body).toEqual({
      error: {
        ...(missing.body as { error: object }).error,
        message: expect.any(String),
        details: { dataset: 'private-set' },
      },
    });
    expect((foreign.body as { error: { code: string } }).error.code).toBe('dataset_not_found');
    for (const [method, url] of [
      ['DELETE', '/v1/datasets/private-set'],
      ['POST', '/v1/datasets/private-set/snapshots'],
      ['GET', '/v1/datasets/private-set/snapshots'],
      ['GET', '/v1/datasets/private-set/snapshots/latest'],
    ] as const) {
      expect((await svc.request(method, url, undefined, otherKey)).status).toBe(404);
    }
    const list = await svc.request<{ items: Array<{ name: string }> }>(
      'GET',
      '/v1/datasets',
      undefined,
      otherKey,
    );
    expect(list.body.items.map((d) => d.name)).not.toContain('private-set');
    // The same name in the other project is its own dataset.
    expect(
      (await svc.request('POST', '/v1/datasets', { name: 'private-set', format: 'eval' }, otherKey)).status,
    ).toBe(201);
    const mine = await svc.request<{ format: string }>('GET', '/v1/datasets/private-set');
    expect(mine.body.format).toBe('chat');
  });

  it('needs datasets:write to change and datasets:read to read', async () => {
    expect((await svc.request('GET', '/v1/datasets', undefined, readOnlyKey)).status).toBe(200);
    const refused = await svc.request<{ error: { code: string } }>(
      'POST',
      '/v1/datasets',
      { name: 'ro', format: 'chat' },
      readOnlyKey,
    );
    expect(refused.status).toBe(403);
    expect((await svc.request('GET', '/v1/datasets', undefined, null)).status).toBe(401);
  });

  it('DELETE removes the definition, its snapshots and their records (204), then 404; audited', async () => {
    await seedExamples(svc.app, [
      { requestId: 'del-1', generation: {} },
      { requestId: 'del-2', generation: {} },
    ]);
    expect((await svc.request('POST', '/v1/datasets', { name: 'doomed', format: 'chat' })).status).toBe(201);
    const snap = await svc.request<{ sequence: number }>('POST', '/v1/datasets/doomed/snapshots');
    expect(snap.status).toBe(201);
    const snapshots = svc.app.get<Model<SnapshotDoc>>(getModelToken(SNAPSHOT)).collection;
    const records = svc.app.get<Model<SnapshotRecordDoc>>(getModelToken(SNAPSHOT_RECORD)).collection;
    const stored = await snapshots.findOne({ dataset: 'doomed' });
    expect(await records.countDocuments({ build: stored?.build })).toBe(2);
    expect((await svc.request('DELETE', '/v1/datasets/doomed')).status).toBe(204);
    expect(await snapshots.countDocuments({ dataset: 'doomed' })).toBe(0);
    expect(await records.countDocuments({ build: stored?.build })).toBe(0);
    expect((await svc.request('GET', '/v1/datasets/doomed')).status).toBe(404);
    expect((await svc.request('DELETE', '/v1/datasets/doomed')).status).toBe(404);
    // Re-created under the same name, it starts with no snapshots.
    expect((await svc.request('POST', '/v1/datasets', { name: 'doomed', format: 'chat' })).status).toBe(201);
    const list = await svc.request<{ items: unknown[] }>('GET', '/v1/datasets/doomed/snapshots');
    expect(list.body.items).toEqual([]);
    await expectEventually(() =>
      expect(auditActions('doomed')).toEqual([
        'default:dataset.created',
        'default:dataset.deleted',
        'default:dataset.created',
      ]),
    );
  });

  it('DELETE removes the definition first (a build finishing meanwhile sees it gone); leftovers are not inherited', async () => {
    await seedExamples(svc.app, [{ requestId: 'half-1', generation: {} }]);
    expect((await svc.request('POST', '/v1/datasets', { name: 'half', format: 'chat' })).status).toBe(201);
    expect((await svc.request('POST', '/v1/datasets/half/snapshots')).status).toBe(201);
    const definitions = jest.spyOn(svc.app.get(DatasetRepository, { strict: false }), 'delete');
    const snapshots = jest
      .spyOn(svc.app.get(SnapshotRepository, { strict: false }), 'deleteDataset')
      .mockRejectedValueOnce(new Error('connection lost'));
    try {
      expect((await svc.request('DELETE', '/v1/datasets/half')).status).toBe(500);
      expect(definitions.mock.invocationCallOrder[0]).toBeLessThan(snapshots.mock.invocationCallOrder[0]);
    } finally {
      definitions.mockRestore();
      snapshots.mockRestore();
    }
    expect((await svc.request('GET', '/v1/datasets/half')).status).toBe(404);
    const stored = svc.app.get<Model<SnapshotDoc>>(getModelToken(SNAPSHOT)).collection;
    expect(await stored.countDocuments({ dataset: 'half' })).toBe(1);
    // Re-created, the name starts without the snapshot its deletion left behind.
    expect((await svc.request('POST', '/v1/datasets', { name: 'half', format: 'chat' })).status).toBe(201);
    expect(await stored.countDocuments({ dataset: 'half' })).toBe(0);
    const snap = await svc.request<{ sequence: number }>('POST', '/v1/datasets/half/snapshots');
    expect(snap).toMatchObject({ status: 201, body: { sequence: 1 } });
  });

  it('documents its routes with their scopes in a valid OpenAPI 3.1 document', async () => {
    const doc = await svc.request<{
      openapi: string;
      paths: Record<string, Record<string, Record<string, unknown>>>;
    }>('GET', '/docs-json', undefined, null);
    expect(doc.status).toBe(200);
    const result = await validate(structuredClone(doc.body) as never);
    expect(result.valid ? [] : result.errors).toEqual([]);
    const scopes = Object.entries(doc.body.paths)
      .filter(([path]) => path.startsWith('/v1/datasets') && !path.endsWith('/download'))
      .flatMap(([path, item]) =>
        Object.entries(item).map(
          ([method, op]) => `${method.toUpperCase()} ${path} ${String(op['x-llmops-scope'])}`,
        ),
      );
    expect(scopes.sort()).toEqual([
      'DELETE /v1/datasets/{name} datasets:write',
      'GET /v1/datasets datasets:read',
      'GET /v1/datasets/{name} datasets:read',
      'GET /v1/datasets/{name}/snapshots datasets:read',
      'GET /v1/datasets/{name}/snapshots/{ref} datasets:read',
      'POST /v1/datasets datasets:write',
      'POST /v1/datasets/{name}/snapshots datasets:write',
    ]);
    // Both answers of a snapshot request are a snapshot; a database outage is documented.
    const responses = doc.body.paths['/v1/datasets/{name}/snapshots'].post.responses as Record<
      string,
      { description: string; content?: Record<string, { schema: unknown }> }
    >;
    expect(responses['200'].content?.['application/json'].schema).toEqual(
      responses['201'].content?.['application/json'].schema,
    );
    expect(responses['200'].content?.['application/json'].schema).toBeDefined();
    expect(responses['503'].description).toContain('database_unavailable');
  });
});
