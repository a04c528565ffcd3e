/**
 * Benchmark: GET a prompt version by full hash and by alias through the registry (NestJS on
 * Fastify, served from the in-memory cache) against a bare Fastify handler returning the same JSON,
 * in one run on 127.0.0.1. Goal: registry >= 0.7x the bare handler.
 *
 *   node -r @swc-node/register test/bench/registry-lookup.bench.ts
 *   (env: KAFKA_BROKERS, MONGODB_URI as for the service; BENCH_SECONDS per target, default 8)
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { createServiceApp, MONGO_CONNECTION } from '@llmops/platform';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import type { Connection } from 'mongoose';
/* eslint-disable @nx/enforce-module-boundaries -- a benchmark boots the service in-process next to
   its bare-Fastify baseline, so both run under identical conditions; nothing ships from here. */
import { AppModule, registryAppOptions } from '../../services/registry/src/app.module';
import { loadRegistryConfig } from '../../services/registry/src/config/registry.config';
/* eslint-enable @nx/enforce-module-boundaries */

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = 50;
const GOAL = 0.7;

async function measure(url: string, seconds = SECONDS): Promise<number> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds, pipelining: 1 });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return result.requests.average;
}

async function main(): Promise<void> {
  const id = randomBytes(3).toString('hex');
  const config = loadRegistryConfig({
    ...process.env,
    MONGODB_DB: `bench_registry_${id}`,
    KAFKA_TOPIC_PREFIX: `bench${id}.`,
    KAFKA_TOPIC_PARTITIONS: '1',
    LOG_LEVEL: 'warn',
  });
  const app = await createServiceApp(AppModule.forRoot(config) as never, registryAppOptions(config));
  await app.listen(0, '127.0.0.1');
  const base = await app.getUrl();
  const registryUrl = base.replace('[::1]', '127.0.0.1');

  const spec = {
    model: 'gpt-4o-mini',
    system: 'You are a careful summarizer.',
    template: 'Provide a concise summary of: {text}',
    params: { temperature: 0.7, max_tokens: 256, top_p: 1, stop: ['\n\n'] },
  };
  const reg = await fetch(`${registryUrl}/v1/prompts/summarizer/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ spec, metadata: { author: 'bench' } }),
  });
  const { hash } = (await reg.json()) as { hash: string };
  await fetch(`${registryUrl}/v1/prompts/summarizer/aliases/production`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ref: hash }),
  });
  const body = (await (
    await fetch(`${registryUrl}/v1/prompts/summarizer/versions/${hash}`)
  ).json()) as unknown;

  const bare = Fastify({ logger: false });
  bare.get('/v1/prompts/:name/versions/:ref', async () => body);
  await bare.listen({ port: 0, host: '127.0.0.1' });
  const address = bare.server.address();
  const bareUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  const byHash = `${registryUrl}/v1/prompts/summarizer/versions/${hash}`;
  const byAlias = `${registryUrl}/v1/prompts/summarizer/versions/production`;
  const baseline = `${bareUrl}/v1/prompts/summarizer/versions/${hash}`;

  // Warm-up (JIT, caches, connection pools), then each target in turn.
  for (const url of [baseline, byHash, byAlias]) await measure(url, 2);
  const bareRps = await measure(baseline);
  const hashRps = await measure(byHash);
  const aliasRps = await measure(byAlias);

  const line = (label: string, rps: number) =>
    `${label.padEnd(34)} ${rps.toFixed(0).padStart(8)} req/s   ${(rps / bareRps).toFixed(2)}x bare   goal >= ${GOAL}x  ${rps / bareRps >= GOAL ? 'OK' : 'BELOW GOAL'}`;
  console.log(
    `registry lookup benchmark (${CONNECTIONS} connections, ${SECONDS} s each, ${JSON.stringify(body).length} B body)`,
  );
  console.log(`${'bare fastify (same JSON)'.padEnd(34)} ${bareRps.toFixed(0).padStart(8)} req/s`);
  console.log(line('registry GET by full hash', hashRps));
  console.log(line('registry GET by alias (production)', aliasRps));

  await bare.close();
  await app.get<Connection>(MONGO_CONNECTION).dropDatabase();
  await app.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
