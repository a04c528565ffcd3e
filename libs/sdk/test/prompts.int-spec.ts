/**
 * Prompts through the SDK against a real registry process: local rendering equals the registry's
 * render route on the shared cases (libs/prompts/fixtures/render-cases.json), the cache and its
 * `served` flag, typed errors, and a registry outage (stale cached versions, the fallback spec).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expectEventually } from '@llmops/testing';
import {
  LlmopsClient,
  LlmopsHttpError,
  LlmopsUnavailableError,
  LlmopsValidationError,
  type RenderableSpec,
} from '../src';
import { api, type Stack, startStack } from './support/stack';

interface RenderCase {
  name: string;
  spec: RenderableSpec;
  variables: Record<string, string | number | boolean>;
  expected: { prompt: Record<string, unknown>; missing: string[] };
}

const cases = (
  JSON.parse(
    readFileSync(join(__dirname, '..', '..', 'prompts', 'fixtures', 'render-cases.json'), 'utf8'),
  ) as {
    cases: RenderCase[];
  }
).cases;

const TTL_MS = 300;
let stack: Stack;
let client: LlmopsClient;

async function register(name: string, spec: RenderableSpec): Promise<{ hash: string; version: number }> {
  const res = await api(stack, 'registry', 'POST', `/v1/prompts/${name}/versions`, { spec });
  expect([200, 201]).toContain(res.status);
  return res.body as { hash: string; version: number };
}

beforeAll(async () => {
  stack = await startStack(['registry']);
  client = new LlmopsClient({
    apiKey: stack.key.key,
    urls: { registry: stack.urls.registry },
    prompts: { ttlMs: TTL_MS },
    retry: { maxAttempts: 2, baseDelayMs: 20, maxDelayMs: 100 },
    timeoutMs: 2_000,
  });
});

afterAll(async () => {
  await client?.shutdown();
  await stack?.close();
});

it('renders locally exactly what the registry renders, on every shared case', async () => {
  expect(cases.length).toBeGreaterThan(3);
  for (const [i, c] of cases.entries()) {
    const name = `render-case-${i}`;
    const { hash } = await register(name, c.spec);
    const server = await api(stack, 'registry', 'POST', `/v1/prompts/${name}/render`, {
      ref: hash,
      variables: c.variables,
    });
    if (c.expected.missing.length > 0) {
      expect({ case: c.name, status: server.status }).toEqual({ case: c.name, status: 422 });
      const err = await client.prompts.render(name, hash, c.variables).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LlmopsValidationError);
      expect(err).toMatchObject({
        code: 'missing_variables',
        details: {
          missing: (server.body as { error: { details: { missing: string[] } } }).error.details.missing,
        },
      });
    } else {
      expect({ case: c.name, status: server.status }).toEqual({ case: c.name, status: 200 });
      const { served, ...local } = await client.prompts.render(name, hash, c.variables);
      expect({ case: c.name, rendered: local }).toEqual({ case: c.name, rendered: server.body });
      expect(served).toBe('fresh');
      // A full hash never changes: rendering it again needs no request.
      expect((await client.prompts.render(name, hash, c.variables)).served).toBe('cache');
    }
  }
});

it('serves a version fresh, then from the cache, then stale past the TTL while it revalidates', async () => {
  await register('cached', { template: 'v1 {x}', model: 'm' });
  expect((await client.prompts.get('cached')).served).toBe('fresh');
  const cached = await client.prompts.get('cached');
  expect(cached).toMatchObject({ served: 'cache', version: { name: 'cached', version: 1 } });
  await register('cached', { template: 'v2 {x}', model: 'm' });
  // Past the TTL the cached version is served at once and refreshed behind it.
  await expectEventually(async () => expect((await client.prompts.get('cached')).served).toBe('stale'), {
    timeoutMs: 5_000,
    intervalMs: 50,
  });
  await expectEventually(async () => expect((await client.prompts.get('cached')).version.version).toBe(2), {
    timeoutMs: 5_000,
    intervalMs: 50,
  });
});

it('refuses bad arguments before sending and types the platform errors with their code', async () => {
  await expect(client.prompts.get('')).rejects.toBeInstanceOf(LlmopsValidationError);
  const err = await client.prompts.get('no-such-prompt').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(LlmopsHttpError);
  expect(err).toMatchObject({ status: 404, code: 'prompt_not_found' });
});

it('serves the last known version and the fallback spec while the registry is down', async () => {
  const spec = { template: 'Hello {who}', model: 'gpt-4o-mini' };
  const { hash } = await register('greeting', spec);
  const fresh = await client.prompts.get('greeting', 'latest');
  expect(fresh.served).toBe('fresh');
  await stack.stop('registry');

  await expectEventually(
    async () => expect((await client.prompts.get('greeting', 'latest')).served).toBe('stale'),
    {
      timeoutMs: 5_000,
      intervalMs: 50,
    },
  );
  const stale = await client.prompts.render('greeting', 'latest', { who: 'you' });
  expect(stale).toMatchObject({ served: 'stale', hash, text: 'Hello you' });

  // Nothing cached: the caller's fallback spec, with its content hash computed here.
  const fallback = await client.prompts.render(
    'greeting',
    'production',
    { who: 'fallback' },
    { fallback: spec },
  );
  expect(fallback).toMatchObject({ served: 'fallback', hash, version: 0, text: 'Hello fallback' });

  const err = await client.prompts.get('greeting', 'staging').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(LlmopsUnavailableError);
  expect(err).toMatchObject({ code: 'unreachable' });
});
