/**
 * Request paths have a deadline on a database of the test's own that the test freezes (SIGSTOP: the
 * server keeps its sockets open and answers nothing): the results and unattributed endpoints answer
 * 503 database_unavailable with Retry-After within 2 s, /health/ready answers 503 naming mongodb
 * within 1 s, and both recover after SIGCONT.
 */
import { type DedicatedMongo, expectEventually, startDedicatedMongo, testInfra } from '@llmops/testing';
import { inject, startApp, type TestApp } from './support/app';

const infra = testInfra();
let mongo: DedicatedMongo;
let app: TestApp;

async function timed(url: string) {
  const started = performance.now();
  const res = await fetch(`http://127.0.0.1:${app.process.port}${url}`, { headers: app.process.headers });
  const body = (await res.json()) as unknown;
  return {
    ms: performance.now() - started,
    status: res.status,
    body,
    retryAfter: res.headers.get('retry-after'),
  };
}

beforeAll(async () => {
  mongo = await startDedicatedMongo(`analytics-deadline-${infra.id}`);
  app = await startApp(infra, `${infra.id}.analytics`, {
    MONGODB_URI: mongo.uri,
    HEALTH_PROBE_INTERVAL_MS: '250',
  });
}, 120_000);

afterAll(async () => {
  mongo?.resume();
  await app?.close();
  await mongo?.destroy();
}, 60_000);

it('a frozen database: results and unattributed answer 503 within 2 s, readiness within 1 s, then recovery', async () => {
  // Before: an unknown experiment is a 404 (the database answered), the unattributed list a 200.
  expect((await inject(app, '/v1/experiments/no-such-exp/results')).status).toBe(404);
  expect((await inject(app, '/v1/feedback/unattributed')).status).toBe(200);

  mongo.freeze();
  try {
    for (const url of ['/v1/experiments/no-such-exp/results', '/v1/feedback/unattributed']) {
      const answer = await timed(url);
      expect({ url, status: answer.status, body: answer.body }).toMatchObject({
        url,
        status: 503,
        body: { error: { code: 'database_unavailable' } },
      });
      expect(answer.retryAfter).not.toBeNull();
      expect(answer.ms).toBeLessThan(2_000);
    }
    const slowest: number[] = [];
    await expectEventually(
      async () => {
        const answer = await timed('/health/ready');
        slowest.push(answer.ms);
        expect(answer.status).toBe(503);
        expect(answer.body).toMatchObject({ failing: expect.arrayContaining(['mongodb']) });
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    expect(Math.max(...slowest)).toBeLessThan(1_000);
  } finally {
    mongo.resume();
  }

  await expectEventually(
    async () => {
      expect((await inject(app, '/health/ready')).status).toBe(200);
      expect((await inject(app, '/v1/experiments/no-such-exp/results')).status).toBe(404);
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  );
}, 90_000);
