/**
 * The HTTP edge of the registry, on real Kafka and MongoDB: JSON only on its write endpoints, the
 * depth limit before the spec's schema (a deep spec never becomes a version the outbox cannot
 * publish), lone surrogates, and security headers.
 */
import { testInfra } from '@llmops/testing';
import type { FastifyInstance } from 'fastify';
import { type RegistryTestApp, startRegistry } from './support/registry-app';

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

const infra = testInfra();
let r: RegistryTestApp;
let fastify: FastifyInstance;

beforeAll(async () => {
  r = await startRegistry(infra);
  fastify = r.app.getHttpAdapter().getInstance();
});
afterAll(async () => {
  await r?.close();
});

const spec = { template: 'Summarize: {text}', model: 'gpt-4o-mini' };

it('register, render and alias moves answer 415 to form-encoded, text/plain and untyped bodies', async () => {
  const first = await r.request<{ hash: string }>('POST', '/v1/prompts/edge/versions', { spec });
  expect(first.status).toBe(201);
  const writes: Array<['POST' | 'PUT', string, unknown]> = [
    ['POST', '/v1/prompts/edge/versions', { spec: { ...spec, template: 'Other: {text}' } }],
    ['POST', '/v1/prompts/edge/render', { ref: first.body.hash, variables: { text: 'x' } }],
    ['PUT', '/v1/prompts/edge/aliases/production', { ref: first.body.hash }],
  ];
  for (const [method, url, body] of writes) {
    for (const type of ['application/x-www-form-urlencoded', 'text/plain']) {
      const res = await fastify.inject({
        method,
        url,
        headers: { ...r.key.header, 'content-type': type, origin: 'https://attacker.example' },
        payload: JSON.stringify(body),
      });
      expect([url, type, res.statusCode, res.json<ErrorBody>().error.code]).toEqual([
        url,
        type,
        415,
        'unsupported_media_type',
      ]);
    }
    const bare = await fastify.inject({
      method,
      url,
      headers: r.key.header,
      payload: Buffer.from(JSON.stringify(body)),
    });
    expect([url, bare.statusCode]).toEqual([url, 415]);
    // The same body as JSON works.
    const ok = await r.request(method, url, body);
    expect([url, ok.status < 300]).toEqual([url, true]);
  }
  // Nothing the refused requests carried was registered.
  const versions = await r.request<{ items: unknown[] }>('GET', '/v1/prompts/edge/versions');
  expect(versions.body.items).toHaveLength(2);
});

it('a null, array, number or string body is a 400 on register, render and alias moves', async () => {
  const urls: Array<['POST' | 'PUT', string]> = [
    ['POST', '/v1/prompts/edge/versions'],
    ['POST', '/v1/prompts/edge/render'],
    ['PUT', '/v1/prompts/edge/aliases/staging'],
  ];
  for (const [method, url] of urls) {
    for (const body of ['null', '[]', '3', '"x"']) {
      const res = await r.request<ErrorBody>(method, url, body);
      expect([url, body, res.status, res.body.error.code]).toEqual([url, body, 400, 'validation_failed']);
    }
  }
  expect((await r.request('GET', '/v1/prompts/edge/aliases/staging')).status).toBe(404);
});

it('a spec nested past HTTP_JSON_MAX_DEPTH is a 400 json_too_deep, and no version is created', async () => {
  let params: unknown = 1;
  // Body (1) > spec (2) > params, 63 nested objects (3..65).
  for (let i = 0; i < 63; i++) params = { p: params };
  const res = await r.request<ErrorBody>('POST', '/v1/prompts/deep/versions', { spec: { ...spec, params } });
  expect([res.status, res.body.error.code]).toEqual([400, 'json_too_deep']);
  expect(res.body.error.details).toMatchObject({ maxDepth: 64 });

  const huge = await r.request<ErrorBody>(
    'POST',
    '/v1/prompts/deep/versions',
    `{"spec":{"template":"t","model":"m","params":{"p":${'['.repeat(100_000)}${']'.repeat(100_000)}}}}`,
  );
  expect([huge.status, huge.body.error.code]).toEqual([400, 'json_too_deep']);
  expect((await r.request('GET', '/v1/prompts/deep/versions')).status).toBe(404);
});

it('a lone surrogate anywhere in the body is a 400 invalid_unicode with the path', async () => {
  const res = await r.request<ErrorBody>(
    'POST',
    '/v1/prompts/lone/versions',
    '{"spec":{"template":"Hi \\ud800 {x}","model":"m"}}',
  );
  expect([res.status, res.body.error.code, res.body.error.details?.path]).toEqual([
    400,
    'invalid_unicode',
    'spec.template',
  ]);
});

it('security headers are on the API, its errors, health and /docs', async () => {
  for (const url of ['/v1/prompts/edge/versions', '/v1/prompts/none/versions', '/health/live', '/docs']) {
    const res = await fastify.inject({ method: 'GET', url, headers: r.key.header });
    expect([url, res.headers['x-content-type-options']]).toEqual([url, 'nosniff']);
    expect([url, res.headers['x-frame-options']]).toEqual([url, 'SAMEORIGIN']);
    expect(String(res.headers['content-security-policy'])).toContain("default-src 'self'");
  }
});
