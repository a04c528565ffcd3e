/**
 * Benchmark: what the HTTP edge adds per request, against what it replaced, in the same run.
 *
 *  - body parser: the platform's JSON parser (charset check, UTF-8 check, JSON.parse with
 *    prototype-poisoning protection, one walk for depth and lone surrogates) against the parser it
 *    replaced (fastify's default JSON parser on the same bytes, as Nest's parser called it), on an
 *    assign body, a single feedback body and a batch of 100 feedback items;
 *  - security headers: a bare Fastify route served through `inject`, CPU time per request: without
 *    headers, with the platform's hook (installSecurityHeaders: helmet's headers recorded once,
 *    copied per reply), and with a new helmet middleware built in an async onRequest hook per
 *    request, as @fastify/helmet 13 does.
 * Each side runs ROUNDS times, alternating; the best round of each is reported (the host is shared,
 * and other load only ever adds time).
 *
 * Run: BENCH_ONLY=http-edge npm run bench
 * Reports, without a goal: the parser's time against the one it replaced on the batch body, and
 * the CPU the platform's security headers add per request.
 * Env: BENCH_ROUNDS (9), BENCH_PARSES (50000), BENCH_INJECTS (10000).
 */
import { installSecurityHeaders, jsonBodyParser, SECURITY_HEADER_OPTIONS } from '@llmops/platform';
import Fastify, { type FastifyRequest } from 'fastify';
import helmet from 'helmet';
import { runBench, setting } from './support/harness';
import { reportResult } from './support/result';

const ROUNDS = setting('BENCH_ROUNDS', 9);
const PARSES = setting('BENCH_PARSES', 50_000);
const INJECTS = setting('BENCH_INJECTS', 10_000);

function best(xs: number[]): number {
  return Math.min(...xs);
}

type Parse = (
  request: FastifyRequest,
  body: Buffer,
  done: (err: Error | null, value?: unknown) => void,
) => void;

/** ns per parse of `body` with `parse`, which must succeed. */
function timeParse(parse: Parse, body: Buffer, n: number): number {
  const request = { headers: { 'content-type': 'application/json' } } as unknown as FastifyRequest;
  let failed: Error | null = null;
  const done = (err: Error | null): void => {
    if (err) failed = err;
  };
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) parse(request, body, done);
  const ns = Number(process.hrtime.bigint() - start) / n;
  if (failed) throw failed;
  return ns;
}

type Headers = 'none' | 'platform' | 'helmet per request';

async function cpuPerInject(headers: Headers, n: number): Promise<number> {
  const app = Fastify({ logger: false });
  if (headers === 'platform') installSecurityHeaders(app);
  if (headers === 'helmet per request') {
    app.addHook('onRequest', async (request, reply) => {
      helmet(SECURITY_HEADER_OPTIONS)(request.raw, reply.raw, () => undefined);
    });
  }
  app.post('/v1/assign', async () => ({ ok: true }));
  await app.ready();
  const payload = '{"experiment":"e","userId":"u"}';
  const request = {
    method: 'POST' as const,
    url: '/v1/assign',
    payload,
    headers: { 'content-type': 'application/json' },
  };
  for (let i = 0; i < 2_000; i++) await app.inject(request);
  const before = process.cpuUsage();
  for (let i = 0; i < n; i++) await app.inject(request);
  const used = process.cpuUsage(before);
  await app.close();
  return (used.user + used.system) / n;
}

async function main(): Promise<void> {
  const fastify = Fastify({ logger: false });
  const ours = jsonBodyParser(fastify, { maxDepth: 64 }) as Parse;
  const replaced = fastify.getDefaultJsonParser('error', 'error') as unknown as Parse;
  const item = (i: number) => ({
    requestId: `req-${i}-0b7e6b1c`,
    feedbackId: `fb-${i}`,
    experiment: 'summarizer-prompt',
    arm: i % 2 ? 'A' : 'B',
    userId: `user_${i}`,
    rating: 1 + (i % 5),
    thumbs: i % 3 === 0 ? 'up' : 'down',
    comment: 'Clear and short; missed the second point. ünïcödé',
    scores: { faithfulness: 0.8, relevance: 0.7 },
    source: 'user',
  });
  const bodies: Array<[string, Buffer]> = [
    [
      'assign',
      Buffer.from(
        JSON.stringify({ experiment: 'bench-http', userId: 'user-12345', attributes: { plan: 'pro' } }),
      ),
    ],
    ['feedback', Buffer.from(JSON.stringify(item(1)))],
    [
      'feedback batch of 100',
      Buffer.from(JSON.stringify({ items: Array.from({ length: 100 }, (_, i) => item(i)) })),
    ],
  ];
  for (const [name, body] of bodies) {
    const n = Math.max(1_000, Math.round((PARSES * 300) / Math.max(300, body.length)));
    timeParse(ours, body, n);
    timeParse(replaced, body, n);
    const a: number[] = [];
    const b: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      b.push(timeParse(replaced, body, n));
      a.push(timeParse(ours, body, n));
    }
    const [oursNs, replacedNs] = [best(a), best(b)];
    console.log(
      `parser, ${name} (${body.length} bytes): ours ${oursNs.toFixed(0)} ns, replaced ${replacedNs.toFixed(0)} ns, ` +
        `${oursNs >= replacedNs ? '+' : ''}${(oursNs - replacedNs).toFixed(0)} ns (${(oursNs / replacedNs).toFixed(2)}x)`,
    );
    if (name === 'feedback batch of 100') {
      reportResult({ measure: `JSON parser time, ours/replaced (${name})`, value: oursNs / replacedNs });
    }
  }

  const kinds: Headers[] = ['none', 'platform', 'helmet per request'];
  const cpu = new Map<Headers, number[]>(kinds.map((k) => [k, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const kind of kinds) cpu.get(kind)!.push(await cpuPerInject(kind, INJECTS));
  }
  const none = best(cpu.get('none')!);
  for (const kind of kinds) {
    const us = best(cpu.get(kind)!);
    console.log(
      `security headers, ${kind}: ${us.toFixed(1)} µs CPU per injected request (+${(us - none).toFixed(1)} µs)`,
    );
  }
  reportResult({
    measure: 'security headers, added CPU per request',
    value: best(cpu.get('platform')!) - none,
    unit: 'µs',
  });
}

runBench(main);
