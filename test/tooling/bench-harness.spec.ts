import Fastify from 'fastify';
import { httpBench, listen, quantile, setting } from '../bench/support/harness';

// The benchmarks' shared load (test/bench/support/harness.ts), against an in-process server.
describe('benchmark harness', () => {
  const app = Fastify({ logger: false });
  const bodies: unknown[] = [];
  const seen: Array<string | undefined> = [];
  let url: string;

  beforeAll(async () => {
    app.post('/v1/items', async (req, reply) => {
      bodies.push(req.body);
      return reply.status(202).send({});
    });
    app.get('/v1/thing', async () => ({ ok: true }));
    app.post('/v1/keyed', async (req, reply) => {
      seen.push(req.headers.authorization);
      return reply.status(202).send({});
    });
    url = await listen(app);
  });

  afterAll(() => app.close());

  it('POSTs a new JSON body per request and counts a batch endpoint in its units', async () => {
    let n = 0;
    const bench = httpBench({
      defaults: { connections: 2, seconds: 1, warmupSeconds: 1 },
      path: '/v1/items',
      body: () => JSON.stringify({ n: n++ }),
      perRequest: { count: 10, unit: 'item' },
    });
    const itemsPerSecond = await bench.measure('items', url);
    const ids = bodies.map((b) => (b as { n: number }).n);
    expect(ids.length).toBeGreaterThan(0);
    expect(new Set(ids).size).toBe(ids.length); // a new body for every request
    expect(itemsPerSecond).toBeGreaterThan(0);
    expect(Number.isInteger(itemsPerSecond / 10)).toBe(true); // 2xx responses x 10 items, over 1 s
  });

  it('GETs the URL itself without a body', async () => {
    const bench = httpBench({ defaults: { connections: 1, seconds: 1, warmupSeconds: 1 } });
    const r = await bench.load(`${url}/v1/thing`, 1);
    expect(r['2xx']).toBe(r.requests.total);
    expect(r.requests.total).toBeGreaterThan(0);
  });

  it('sends the headers on every request and records each response latency below a millisecond', async () => {
    const bench = httpBench({
      defaults: { connections: 2, seconds: 1, warmupSeconds: 1 },
      path: '/v1/keyed',
      body: () => '{}',
      headers: () => ({ authorization: 'Bearer k' }),
    });
    const { result, sortedMs } = await bench.latencies(url, 1, 200);
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen)).toEqual(new Set(['Bearer k']));
    expect(sortedMs).toHaveLength(result['2xx']);
    expect(sortedMs).toEqual([...sortedMs].sort((a, b) => a - b));
    // The client's timer, not whole milliseconds.
    expect(sortedMs.some((ms) => !Number.isInteger(ms))).toBe(true);
  });

  it('takes quantiles by nearest rank', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(sorted, 0.5)).toBe(50);
    expect(quantile(sorted, 0.99)).toBe(99);
    expect(quantile(sorted, 1)).toBe(100);
    expect(quantile([7], 0.99)).toBe(7);
  });

  it('reads a numeric setting from the environment and refuses anything else', () => {
    process.env.BENCH_TEST_SETTING = '3';
    expect(setting('BENCH_TEST_SETTING', 8)).toBe(3);
    process.env.BENCH_TEST_SETTING = 'three';
    expect(() => setting('BENCH_TEST_SETTING', 8)).toThrow(
      'BENCH_TEST_SETTING must be a number, got "three"',
    );
    delete process.env.BENCH_TEST_SETTING;
    expect(setting('BENCH_TEST_SETTING', 8)).toBe(8);
  });
});
