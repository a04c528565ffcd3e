/**
 * Bounded reads (real Kafka + MongoDB): GET /v1/feedback/unattributed pages with a cursor and lists
 * each parked (feedbackId, revision) once, unknown query parameters are refused, and /health/live
 * stays responsive while a full unattributed page and the largest results request are served.
 */
import { type LivenessReport, measureLiveness, processCpuMs, testInfra } from '@llmops/testing';
import type { ExperimentResults } from '../src/results/dto/results.response';
import { AnalyticsFixture } from './support/analytics-fixture';
import { experimentEvent, feedbackEvent, generationEvent, type Produced } from './support/scenario';

interface Page {
  items: Array<{ feedbackId: string; revision: number; requestId: string; reason: string }>;
  nextCursor: string | null;
}
interface ErrorBody {
  error: { code: string; details?: { issues?: unknown[] } };
}

const LIVE_MS = 100;
const PARKED = 1_200;
const MAX_LIMIT = 1_000;

describe('bounded reads (real Kafka + MongoDB)', () => {
  let analytics: AnalyticsFixture;

  beforeAll(async () => {
    analytics = await AnalyticsFixture.start(testInfra(), {
      partitions: 2,
      // The largest results read scans every bucket of the experiment; the shared FerretDB on a loaded
      // test machine can take longer than the production deadline for it (database-deadline.int-spec
      // tests the deadline itself on a database of its own).
      env: { ANALYTICS_METRICS_REFRESH_MS: '5000', MONGODB_OPERATION_TIMEOUT_MS: '20000' },
    });
  });

  afterAll(() => analytics?.close());

  const settle = () => analytics.settle({ timeoutMs: 120_000 });
  const expectLive = (report: LivenessReport<unknown>) => {
    console.log(
      `/health/live over ${report.probes} probes: worst ${report.worstMs.toFixed(1)} ms wall, ${report.blockedMs.toFixed(1)} ms busy`,
    );
    expect(report.blockedMs).toBeLessThan(LIVE_MS);
  };
  const live = async () => expect((await analytics.inject('/health/live')).status).toBe(200);
  const cpu = () => processCpuMs(analytics.app.process.child.pid!);

  it('pages through parked feedback: each (feedbackId, revision) once, duplicates and resolved ones not listed', async () => {
    const at = new Date(Date.now() - 60_000);
    const parked = (i: number, revision = 1): Produced =>
      feedbackEvent({
        feedbackId: `park-${String(i).padStart(5, '0')}`,
        requestId: `park-req-${i}`,
        rating: 1 + (i % 5),
        revision,
        edit: revision > 1 ? { previousRevision: revision - 1 } : null,
        at,
      });
    const events: Produced[] = [];
    for (let i = 0; i < PARKED; i++) events.push(parked(i));
    // The same feedback sent again (a client retry): a second parked copy of the same pair.
    for (let i = 0; i < PARKED; i += 6) events.push(parked(i));
    // A second revision of some: both revisions are parked and listed.
    for (let i = 1; i < PARKED; i += 10) events.push(parked(i, 2));
    await analytics.produce(events);
    await settle();
    // Generations arrive for some: their feedback is attributed and leaves the list.
    await analytics.produce([
      experimentEvent('park-exp', [
        { name: 'A', weight: 1 },
        { name: 'B', weight: 1 },
      ]),
      ...Array.from({ length: PARKED / 8 }, (_, k) =>
        generationEvent(`park-req-${k * 8}`, 'park-exp', 'A', at, 10, 0, [1, 1]),
      ),
    ]);
    await settle();

    const expected = new Set<string>();
    for (let i = 0; i < PARKED; i++) {
      if (i % 8 === 0) continue;
      expected.add(`park-${String(i).padStart(5, '0')}|1`);
      if (i % 10 === 1) expected.add(`park-${String(i).padStart(5, '0')}|2`);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url = `/v1/feedback/unattributed?limit=250${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await analytics.inject(url);
      expect(res.status).toBe(200);
      const page = res.body as Page;
      expect(page.items.length).toBeLessThanOrEqual(250);
      seen.push(...page.items.map((p) => `${p.feedbackId}|${p.revision}`));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null && pages < 50);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual([...expected].sort());

    const first = (await analytics.inject('/v1/feedback/unattributed')).body as Page;
    expect(first.items).toHaveLength(100);
    expect(first.items[0]).toEqual({
      feedbackId: 'park-00001',
      revision: 1,
      requestId: 'park-req-1',
      receivedAt: at.toISOString(),
      reason: 'generation_not_seen',
    });
  });

  it('refuses unknown parameters, a bad limit and a forged cursor with 400', async () => {
    for (const query of ['experiment=x', 'limit=0', `limit=${MAX_LIMIT + 1}`, 'limit=1&offset=2']) {
      const res = await analytics.inject(`/v1/feedback/unattributed?${query}`);
      expect([query, res.status, (res.body as ErrorBody).error.code]).toEqual([
        query,
        400,
        'validation_failed',
      ]);
    }
    const unknown = (await analytics.inject('/v1/feedback/unattributed?experiment=x')).body as ErrorBody;
    expect(unknown.error.details?.issues).toEqual([{ path: 'query.experiment', message: 'unknown field' }]);
    const forged = await analytics.inject('/v1/feedback/unattributed?cursor=bm90LWEtY3Vyc29y');
    expect([forged.status, (forged.body as ErrorBody).error.code]).toEqual([400, 'invalid_cursor']);
    const results = await analytics.inject('/v1/experiments/park-exp/results?window=all&arm=A');
    expect(results.status).toBe(400);
    expect((results.body as ErrorBody).error.details?.issues).toEqual([
      { path: 'query.arm', message: 'unknown field' },
    ]);
  });

  it('while a full page (1,000 items) is served, /health/live answers within 100 ms', async () => {
    const report = await measureLiveness(
      analytics.inject(`/v1/feedback/unattributed?limit=${MAX_LIMIT}`),
      live,
      {
        cpuMs: cpu,
      },
    );
    expect(report.result.status).toBe(200);
    expect((report.result.body as Page).items).toHaveLength(MAX_LIMIT);
    expectLive(report);
  });

  it('while the largest results request (20 arms, 50 scores, 30 minutes of buckets) is served, /health/live answers within 100 ms', async () => {
    const exp = 'wide-exp';
    const arms = Array.from({ length: 20 }, (_, i) => ({ name: `arm-${i}`, weight: 1 }));
    const scores = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`score-${i}`, i / 50]));
    const minutes = 30;
    const start = Date.now() - (minutes + 5) * 60_000;
    const events: Produced[] = [experimentEvent(exp, arms, 'arm-0')];
    for (let m = 0; m < minutes; m++) {
      const at = new Date(start + m * 60_000);
      for (const { name } of arms) {
        const requestId = `${exp}-${name}-${m}`;
        events.push(generationEvent(requestId, exp, name, at, 100 + m, 0.001, [10, 5]));
        events.push(
          feedbackEvent({
            feedbackId: `${requestId}-f`,
            requestId,
            experiment: exp,
            arm: name,
            rating: 1 + (m % 5),
            scores,
            revision: 1,
            edit: null,
            at,
          }),
        );
      }
    }
    await analytics.produce(events);
    await settle();
    const report = await measureLiveness(analytics.inject(`/v1/experiments/${exp}/results?window=7d`), live, {
      cpuMs: cpu,
    });
    expect(report.result.status).toBe(200);
    const results = report.result.body as ExperimentResults;
    expect(results.arms).toHaveLength(20);
    expect(results.arms.every((a) => a.rating.n === minutes && a.generations === minutes)).toBe(true);
    expectLive(report);
  }, 180_000);
});
