/**
 * Benchmark: GET a prompt version by full hash and by alias through the registry (NestJS on
 * Fastify, served from the in-memory cache) against a bare Fastify handler returning the same JSON,
 * in one run on 127.0.0.1. Goal: registry >= 0.7x the bare handler. Every request sends an API key
 * (issued to the run's keys topic, as the identity service would; the bare handler ignores it), so
 * the registry's figures include authentication and the per-key rate limit (set far above what the
 * run reaches).
 *
 * Run: BENCH_ONLY=registry-lookup npm run bench
 * Env: KAFKA_BROKERS, MONGODB_URI as for the service; BENCH_SECONDS per target (8),
 *      BENCH_WARMUP_SECONDS (2), BENCH_CONNECTIONS (50).
 */
import 'reflect-metadata';
import { createServiceApp, KeyDirectory } from '@llmops/platform';
import { type IssuedTestKey, issueTestKey, TEST_KEY_PEPPER } from '@llmops/testing';
import { getConnectionToken } from '@nestjs/mongoose';
import Fastify from 'fastify';
import type { Connection } from 'mongoose';
/* eslint-disable @nx/enforce-module-boundaries -- a benchmark boots the service in-process next to
   its bare-Fastify baseline, so both run under identical conditions; nothing ships from here. */
import { AppModule, registryAppOptions } from '../../services/registry/src/app.module';
import { loadRegistryConfig } from '../../services/registry/src/config/registry.config';
/* eslint-enable @nx/enforce-module-boundaries */
import { httpBench, listen, reportRatio, runBench, runId } from './support/harness';

const GOAL = 0.7;
let key: IssuedTestKey | undefined;
const { connections, seconds, measure } = httpBench({
  defaults: { connections: 50, seconds: 8, warmupSeconds: 2 },
  headers: () => key?.header ?? {},
});

async function main(): Promise<void> {
  const run = runId();
  const config = loadRegistryConfig({
    ...process.env,
    MONGODB_DB: `${run}_registry`,
    KAFKA_TOPIC_PREFIX: `${run}.`,
    KAFKA_TOPIC_PARTITIONS: '1',
    LOG_LEVEL: 'warn',
    LLMOPS_KEY_PEPPER: TEST_KEY_PEPPER,
    RATE_LIMIT_READ: '10000000',
  });
  key = await issueTestKey(
    { kafkaBrokers: config.KAFKA_BROKERS.join(','), topicPrefix: config.KAFKA_TOPIC_PREFIX },
    { name: 'registry benchmark', scopes: ['prompts:read', 'prompts:write', 'prompts:promote'] },
  );
  const app = await createServiceApp(AppModule.forRoot(config) as never, registryAppOptions(config));
  await app.listen(0, '127.0.0.1');
  await app.get(KeyDirectory).waitFor(key.keyId);
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
    headers: { ...key.header, 'content-type': 'application/json' },
    body: JSON.stringify({ spec, metadata: { author: 'bench' } }),
  });
  const { hash } = (await reg.json()) as { hash: string };
  await fetch(`${registryUrl}/v1/prompts/summarizer/aliases/production`, {
    method: 'PUT',
    headers: { ...key.header, 'content-type': 'application/json' },
    body: JSON.stringify({ ref: hash }),
  });
  const body = (await (
    await fetch(`${registryUrl}/v1/prompts/summarizer/versions/${hash}`, { headers: key.header })
  ).json()) as unknown;

  const bare = Fastify({ logger: false });
  bare.get('/v1/prompts/:name/versions/:ref', async () => body);
  const bareUrl = await listen(bare);

  const byHash = `${registryUrl}/v1/prompts/summarizer/versions/${hash}`;
  const byAlias = `${registryUrl}/v1/prompts/summarizer/versions/production`;
  const baseline = `${bareUrl}/v1/prompts/summarizer/versions/${hash}`;

  console.log(
    `registry lookup benchmark (${connections} connections, ${seconds} s each, ${JSON.stringify(body).length} B body)`,
  );
  // One target after the other, each after its own warm-up (JIT, caches, connection pools).
  const bareRps = await measure('bare fastify (same JSON)', baseline);
  const hashRps = await measure('registry GET by full hash', byHash);
  const aliasRps = await measure('registry GET by alias (production)', byAlias);
  reportRatio('GET version by hash req/s, registry/bare Fastify', hashRps, bareRps, GOAL);
  reportRatio('GET version by alias req/s, registry/bare Fastify', aliasRps, bareRps, GOAL);

  await bare.close();
  await app.get<Connection>(getConnectionToken()).dropDatabase();
  await app.close();
}

runBench(main);
