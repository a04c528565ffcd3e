/**
 * GET /v1/experiments (real Kafka + MongoDB): pages of `limit` in key order with an opaque cursor,
 * unknown query parameters refused, and /health/live responsive while the largest page is served.
 */
import { requestCollection } from '@llmops/platform';
import { expectEventually, type LivenessReport, measureLiveness, testInfra } from '@llmops/testing';
import { getModelToken } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { MAX_ARMS_PER_EXPERIMENT } from '../src/experiments/dto/experiment-fields';
import { EXPERIMENT_MODEL, type ExperimentDocument } from '../src/experiments/persistence/experiment.schema';
import { type AssignmentApp, startAssignmentApp } from './support/assignment-app';
import { type ArmSpec, registeredArms } from './support/fixtures';
import type { RegistryHandle } from './support/registry';
import { startTestRegistry } from './support/test-registry';

interface Page {
  items: Array<{ key: string; arms: unknown[] }>;
  nextCursor: string | null;
}
type ErrorBody = { error: { code: string; message: string; details?: { issues?: unknown[] } } };

const LIVE_MS = 100;
const TOTAL = 101;

describe('GET /v1/experiments', () => {
  const infra = testInfra();
  let registry: RegistryHandle;
  let app: AssignmentApp;
  const keys: string[] = [];

  beforeAll(async () => {
    registry = await startTestRegistry(infra);
    // FerretDB reads a page of large documents slowly on a loaded test machine: a generous deadline.
    app = await startAssignmentApp(infra, {
      REGISTRY_URL: registry.url,
      MONGODB_OPERATION_TIMEOUT_MS: '20000',
    });
    const [{ prompt }] = await registeredArms(registry, 'summarizer', [['A', 1]]);
    // The largest experiments there can be (every arm), so a full page is the largest page.
    const arms: ArmSpec[] = Array.from({ length: MAX_ARMS_PER_EXPERIMENT }, (_, i) => ({
      name: `arm-${i}`,
      weight: 1,
      prompt,
    }));
    for (let i = 0; i < TOTAL; i++) keys.push(`exp-${String((i * 37) % TOTAL).padStart(3, '0')}`);
    // One experiment through the API; the others are copies of its stored document under other
    // keys (creating 100 through the API, each resolving prompt refs, is slow on a loaded machine).
    const res = await app.request('POST', '/v1/experiments', { key: keys[0], arms });
    expect(res.status).toBe(201);
    const collection = requestCollection(
      app.app.get<Model<ExperimentDocument>>(getModelToken(EXPERIMENT_MODEL)),
    );
    const stored = await expectEventually(async () => {
      const doc = await collection.findOne({ _id: keys[0] });
      expect(doc?.unpublished).toBe(false);
      return doc!;
    });
    await collection.insertMany(
      keys.slice(1).map((key) => ({ ...stored, _id: key, snapshot: { ...stored.snapshot, key } })),
    );
    keys.sort();
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await registry?.stop();
  });

  it('pages through every experiment once, in key order, 20 by default', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = cursor === null ? '/v1/experiments' : `/v1/experiments?cursor=${cursor}`;
      const res = await app.request<Page>('GET', url);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(20);
      seen.push(...res.body.items.map((e) => e.key));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor !== null);
    expect(seen).toEqual(keys);
    expect(pages).toBe(6);
  });

  it('has the schema indexes after boot, and not the one the per-project layer index replaced', async () => {
    const experiments = requestCollection(
      app.app.get<Model<ExperimentDocument>>(getModelToken(EXPERIMENT_MODEL)),
    );
    const names = (await experiments.listIndexes().toArray()).map((i) => String(i.name));
    expect(names.sort()).toEqual([
      '_id_',
      'project_1__id_1',
      'project_1_snapshot_layer_name_1',
      'unpublished_1',
    ]);
  });

  it('honours limit, and the next page starts after the last key', async () => {
    const first = await app.request<Page>('GET', '/v1/experiments?limit=7');
    expect(first.body.items.map((e) => e.key)).toEqual(keys.slice(0, 7));
    const second = await app.request<Page>('GET', `/v1/experiments?limit=7&cursor=${first.body.nextCursor}`);
    expect(second.body.items.map((e) => e.key)).toEqual(keys.slice(7, 14));
    const last = await app.request<Page>('GET', '/v1/experiments?limit=100');
    expect(last.body.items).toHaveLength(100);
    const rest = await app.request<Page>('GET', `/v1/experiments?limit=100&cursor=${last.body.nextCursor}`);
    expect(rest.body.items.map((e) => e.key)).toEqual(keys.slice(100));
    expect(rest.body.nextCursor).toBeNull();
  });

  it('refuses unknown parameters, a bad limit and a forged cursor with 400', async () => {
    for (const query of ['status=running', 'limit=20&offset=40', 'limit=0', 'limit=101', 'limit=abc']) {
      const res = await app.request<ErrorBody>('GET', `/v1/experiments?${query}`);
      expect([query, res.status, res.body.error.code]).toEqual([query, 400, 'validation_failed']);
    }
    const unknown = await app.request<ErrorBody>('GET', '/v1/experiments?status=running');
    expect(unknown.body.error.details?.issues).toEqual([{ path: 'query.status', message: 'unknown field' }]);
    const forged = await app.request<ErrorBody>('GET', '/v1/experiments?cursor=not-a-cursor');
    expect(forged.status).toBe(400);
    expect(forged.body.error.code).toBe('invalid_cursor');
  });

  it('while the largest page (100 experiments of 20 arms) is served, /health/live answers within 100 ms', async () => {
    const report: LivenessReport<{ status: number; body: Page }> = await measureLiveness(
      app.request<Page>('GET', '/v1/experiments?limit=100'),
      async () => expect((await app.request('GET', '/health/live')).status).toBe(200),
    );
    expect(report.result.status).toBe(200);
    expect(report.result.body.items).toHaveLength(100);
    expect(report.result.body.items[0].arms).toHaveLength(MAX_ARMS_PER_EXPERIMENT);
    console.log(
      `/health/live over ${report.probes} probes: worst ${report.worstMs.toFixed(1)} ms wall, ${report.blockedMs.toFixed(1)} ms busy`,
    );
    expect(report.blockedMs).toBeLessThan(LIVE_MS);
  });
});
