/**
 * GET /v1/experiments/snapshots (real Kafka, MongoDB and registry; two replicas): every experiment of
 * the key's project with an ETag; 304 for the current version; a long poll on replica B returns the
 * new version within 2 s of a change made on replica A (through the experiments topic); long polls
 * are bounded per replica (503 beyond) and released at once when the replica shuts down.
 */
import type { ExperimentSnapshot } from '@llmops/contracts';
import { expectEventually, testInfra } from '@llmops/testing';
import { type AssignmentApp, startAssignmentApp } from './support/assignment-app';
import { createRunning, registeredArms } from './support/fixtures';
import type { RegistryHandle } from './support/registry';
import { startTestRegistry } from './support/test-registry';

interface Snapshots {
  project: string;
  version: string;
  experiments: ExperimentSnapshot[];
}

describe('GET /v1/experiments/snapshots', () => {
  const infra = testInfra();
  let registry: RegistryHandle;
  let a: AssignmentApp;
  let b: AssignmentApp;
  let bClosed = false;

  beforeAll(async () => {
    registry = await startTestRegistry(infra);
    a = await startAssignmentApp(infra, { REGISTRY_URL: registry.url });
    b = await startAssignmentApp(infra, { REGISTRY_URL: registry.url, SNAPSHOTS_MAX_WAITERS: '2' });
    const arms = await registeredArms(registry, 'snap', [
      ['A', 1],
      ['B', 1],
    ]);
    await createRunning(a, { key: 'snap-running', arms, trafficAllocation: 0.5 });
    const draft = await a.request('POST', '/v1/experiments', { key: 'snap-draft', arms });
    expect(draft.status).toBe(201);
  });
  afterAll(async () => {
    await a?.close();
    if (!bClosed) await b?.close();
    await registry?.stop();
  });

  /** B's snapshots once it holds both experiments (it learns them from the topic). */
  async function current(app: AssignmentApp): Promise<{ body: Snapshots; etag: string }> {
    const res = await app.request<Snapshots>('GET', '/v1/experiments/snapshots');
    expect(res.status).toBe(200);
    return { body: res.body, etag: String(res.headers.etag) };
  }

  it('serves every experiment of the project, running or not, with its version as ETag; 304 when unchanged', async () => {
    const { body, etag } = await current(a);
    expect(body.project).toBe('default');
    expect(etag).toBe(`"${body.version}"`);
    const byKey = new Map(body.experiments.map((e) => [e.key, e]));
    expect(byKey.get('snap-running')).toMatchObject({ status: 'running', trafficAllocation: 0.5 });
    expect(byKey.get('snap-draft')).toMatchObject({ status: 'draft' });

    const again = await a.request('GET', '/v1/experiments/snapshots', undefined, { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.headers.etag).toBe(etag);
    const other = await a.request('GET', '/v1/experiments/snapshots', undefined, { 'if-none-match': '"x"' });
    expect(other.status).toBe(200);
  });

  it('refuses a bad wait or an unknown parameter with 400 naming it', async () => {
    for (const query of ['wait=0', 'wait=31', 'wait=soon', 'since=1']) {
      const res = await a.request<{ error: { code: string; message: string } }>(
        'GET',
        `/v1/experiments/snapshots?${query}`,
      );
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.message).toContain(query.split('=')[0]);
    }
  });

  it('a long poll on replica B returns the new version within 2 s of a change made on replica A', async () => {
    const { body: before, etag } = await expectBoth();
    const started = Date.now();
    const poll = b.request<Snapshots>('GET', '/v1/experiments/snapshots?wait=20', undefined, {
      'if-none-match': etag,
    });
    const changed = await a.request('PATCH', '/v1/experiments/snap-running', { trafficAllocation: 0.75 });
    expect(changed.status).toBe(200);
    const changedAt = Date.now();
    const res = await poll;
    const answeredAt = Date.now();
    expect(res.status).toBe(200);
    expect(res.body.version).not.toBe(before.version);
    expect(res.headers.etag).toBe(`"${res.body.version}"`);
    expect(res.body.experiments.find((e) => e.key === 'snap-running')).toMatchObject({
      trafficAllocation: 0.75,
    });
    expect(answeredAt - changedAt).toBeLessThan(2_000);
    expect(answeredAt - started).toBeLessThan(20_000);
    // Every replica holding the same experiments answers the same version.
    expect((await current(a)).body.version).toBe(res.body.version);
  });

  it('a long poll without a change answers 304 when its wait ends', async () => {
    const { etag } = await expectBoth();
    const started = Date.now();
    const res = await b.request('GET', '/v1/experiments/snapshots?wait=1', undefined, {
      'if-none-match': etag,
    });
    expect(res.status).toBe(304);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('holds at most SNAPSHOTS_MAX_WAITERS long polls per replica: 503 with Retry-After beyond', async () => {
    const { etag } = await expectBoth();
    const held = [1, 2].map(() =>
      b.request('GET', '/v1/experiments/snapshots?wait=20', undefined, { 'if-none-match': etag }),
    );
    const third = await b.request<{ error: { code: string } }>(
      'GET',
      '/v1/experiments/snapshots?wait=20',
      undefined,
      { 'if-none-match': etag },
    );
    expect(third.status).toBe(503);
    expect(third.body.error.code).toBe('too_many_waiters');
    expect(third.headers['retry-after']).toBe('1');
    // Reads without wait are not limited.
    const plain = await b.request('GET', '/v1/experiments/snapshots', undefined, { 'if-none-match': etag });
    expect(plain.status).toBe(304);
    await a.request('PATCH', '/v1/experiments/snap-draft', { description: 'release the waiters' });
    for (const res of await Promise.all(held)) expect(res.status).toBe(200);
  });

  it('releases held long polls at once when the replica shuts down', async () => {
    const { etag } = await expectBoth();
    const poll = b.request('GET', '/v1/experiments/snapshots?wait=30', undefined, { 'if-none-match': etag });
    await expectEventually(async () => {
      const metrics = await b.app.getHttpAdapter().getInstance().inject({ method: 'GET', url: '/metrics' });
      expect(metrics.body).toMatch(/^llmops_snapshot_long_polls({[^}]*})? 1$/m);
    });
    const started = Date.now();
    bClosed = true;
    await b.close();
    const res = await poll;
    expect(res.status).toBe(304);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  /** The current snapshots once A and B agree (B reads A's changes from the topic). */
  async function expectBoth(): Promise<{ body: Snapshots; etag: string }> {
    let out!: { body: Snapshots; etag: string };
    await expectEventually(async () => {
      const [x, y] = [await current(a), await current(b)];
      expect(y.etag).toBe(x.etag);
      out = x;
    });
    return out;
  }
});
