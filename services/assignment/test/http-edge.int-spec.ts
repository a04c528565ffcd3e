/**
 * The HTTP edge of the assignment service, on real Kafka and MongoDB: JSON only (415 for other
 * bodies, which a browser sends cross-site without a preflight), bodyless actions, the JSON body
 * checks that run before any schema (UTF-8, depth, lone surrogates), a non-object body to phases,
 * and security headers on every route, /docs included.
 */
import { testInfra } from '@llmops/testing';
import type { FastifyInstance } from 'fastify';
import { type AssignmentApp, startAssignmentApp } from './support/assignment-app';
import { type ArmSpec, createRunning, registeredArms } from './support/fixtures';
import type { RegistryHandle } from './support/registry';
import { startTestRegistry } from './support/test-registry';

type ErrorBody = { error: { code: string; message: string; details?: Record<string, unknown> } };

const FOREIGN = { origin: 'https://attacker.example' };

/** `[[...]]` nested `levels` deep around `inner`. */
function nested(levels: number, inner = '1'): string {
  return '['.repeat(levels) + inner + ']'.repeat(levels);
}

describe('assignment HTTP edge', () => {
  const infra = testInfra();
  let registry: RegistryHandle;
  let app: AssignmentApp;
  let fastify: FastifyInstance;
  let arms: ArmSpec[];

  const raw = async (
    method: 'POST' | 'PATCH' | 'GET',
    url: string,
    headers: Record<string, string>,
    payload?: string | Buffer,
  ): Promise<{
    status: number;
    body: ErrorBody & Record<string, unknown>;
    headers: Record<string, unknown>;
  }> => {
    const res = await fastify.inject({
      method,
      url,
      headers: { ...app.key.header, ...headers },
      ...(payload === undefined ? {} : { payload }),
    });
    return {
      status: res.statusCode,
      body: res.body ? JSON.parse(res.body) : undefined,
      headers: res.headers,
    };
  };
  const statusOf = async (key: string): Promise<unknown> =>
    (await app.request('GET', `/v1/experiments/${key}`)).body.status;

  beforeAll(async () => {
    registry = await startTestRegistry(infra);
    app = await startAssignmentApp(infra, { REGISTRY_URL: registry.url });
    fastify = app.app.getHttpAdapter().getInstance();
    arms = await registeredArms(registry, 'edge', [
      ['A', 0.5],
      ['B', 0.5],
    ]);
  });
  afterAll(async () => {
    await app?.close();
    await registry?.stop();
  });

  describe('content types', () => {
    it.each([
      ['application/x-www-form-urlencoded', 'a=1'],
      ['text/plain', '{}'],
      [
        'multipart/form-data; boundary=x',
        '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--\r\n',
      ],
    ])(
      'a %s body from a foreign origin is a 415 on start, pause, stop and phases, and changes nothing',
      async (type, body) => {
        const key = `ct-${type.replace(/[^a-z]/g, '').slice(0, 20)}`;
        await createRunning(app, { key, arms });
        for (const action of ['pause', 'stop', 'phases']) {
          const res = await raw(
            'POST',
            `/v1/experiments/${key}/${action}`,
            { ...FOREIGN, 'content-type': type },
            body,
          );
          expect([action, res.status, res.body.error.code]).toEqual([action, 415, 'unsupported_media_type']);
          expect(res.body.error.message).toContain('application/json');
        }
        expect(await statusOf(key)).toBe('running');
        const phase = (await app.request('GET', `/v1/experiments/${key}`)).body.phase;
        expect(phase).toBe(1);
      },
    );

    it('every JSON endpoint, the direct route POST /v1/assign included, answers 415 to another type', async () => {
      await createRunning(app, { key: 'ct-all', arms });
      const endpoints: Array<['POST' | 'PATCH', string]> = [
        ['POST', '/v1/assign'],
        ['POST', '/v1/assign/batch'],
        ['POST', '/v1/experiments'],
        ['PATCH', '/v1/experiments/ct-all'],
        ['POST', '/v1/experiments/ct-all/start'],
      ];
      for (const [method, url] of endpoints) {
        for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
          const res = await raw(
            method,
            url,
            { 'content-type': type },
            '{"experiment":"ct-all","userId":"u"}',
          );
          expect([url, type, res.status, res.body.error.code]).toEqual([
            url,
            type,
            415,
            'unsupported_media_type',
          ]);
        }
        // A body without any Content-Type.
        const bare = await fastify.inject({
          method,
          url,
          headers: app.key.header,
          payload: Buffer.from('{"userId":"u"}'),
        });
        expect([url, bare.statusCode]).toEqual([url, 415]);
      }
    });

    it('application/json; charset=utf-8 is accepted, another charset is a 415', async () => {
      await createRunning(app, { key: 'ct-charset', arms });
      const body = JSON.stringify({ experiment: 'ct-charset', userId: 'u1' });
      for (const type of ['application/json; charset=utf-8', 'application/json;charset="UTF-8"']) {
        const ok = await raw('POST', '/v1/assign', { 'content-type': type }, body);
        expect([type, ok.status, ok.body.experiment]).toEqual([type, 200, 'ct-charset']);
      }
      for (const type of ['application/json; charset=iso-8859-1', 'application/json; charset=utf-16']) {
        const res = await raw('POST', '/v1/assign', { 'content-type': type }, body);
        expect([type, res.status, res.body.error.code]).toEqual([type, 415, 'unsupported_media_type']);
      }
    });

    it('bodyless start, pause and stop still work: no Content-Type, Content-Length 0, empty JSON', async () => {
      await app.request('POST', '/v1/experiments', { key: 'bodyless', arms });
      const bare = await raw('POST', '/v1/experiments/bodyless/start', {});
      expect([bare.status, bare.body.status]).toEqual([200, 'running']);
      const zero = await raw('POST', '/v1/experiments/bodyless/pause', { 'content-length': '0' });
      expect([zero.status, zero.body.status]).toEqual([200, 'paused']);
      const emptyForm = await raw(
        'POST',
        '/v1/experiments/bodyless/start',
        { 'content-type': 'application/x-www-form-urlencoded', 'content-length': '0' },
        '',
      );
      expect([emptyForm.status, emptyForm.body.status]).toEqual([200, 'running']);
      const emptyJson = await raw(
        'POST',
        '/v1/experiments/bodyless/stop',
        { 'content-type': 'application/json' },
        '',
      );
      expect([emptyJson.status, emptyJson.body.status]).toEqual([200, 'stopped']);
    });
  });

  describe('a non-object body to POST /v1/experiments/{key}/phases', () => {
    it.each(['null', '[]', '[{}]', '7', '"seed"', 'true'])(
      '%s is a 400 and starts no phase',
      async (body) => {
        const key = `phase-${['null', '[]', '[{}]', '7', '"seed"', 'true'].indexOf(body)}`;
        await createRunning(app, { key, arms });
        const res = await raw(
          'POST',
          `/v1/experiments/${key}/phases`,
          { 'content-type': 'application/json' },
          body,
        );
        expect([res.status, res.body.error.code]).toEqual([400, 'validation_failed']);
        const after = (await app.request('GET', `/v1/experiments/${key}`)).body;
        expect([after.phase, after.seed]).toEqual([1, key]);
      },
    );

    it('every other JSON endpoint answers a null, array, number or string body with 400 and changes nothing', async () => {
      await createRunning(app, { key: 'non-object', arms });
      const endpoints: Array<['POST' | 'PATCH', string]> = [
        ['POST', '/v1/assign'],
        ['POST', '/v1/assign/batch'],
        ['POST', '/v1/experiments'],
        ['PATCH', '/v1/experiments/non-object'],
      ];
      for (const [method, url] of endpoints) {
        for (const body of ['null', '[]', '3', '"x"']) {
          const res = await raw(method, url, { 'content-type': 'application/json' }, body);
          expect([url, body, res.status, res.body.error.code]).toEqual([url, body, 400, 'validation_failed']);
        }
      }
      const after = (await app.request('GET', '/v1/experiments/non-object')).body;
      expect([after.revision, after.status]).toEqual([2, 'running']);
    });

    it('no body or {} starts a phase with the default seed', async () => {
      await createRunning(app, { key: 'phase-ok', arms });
      const none = await raw('POST', '/v1/experiments/phase-ok/phases', {});
      expect([none.status, none.body.phase]).toEqual([201, 2]);
      const empty = await app.request('POST', '/v1/experiments/phase-ok/phases', {});
      expect([empty.status, empty.body.phase]).toEqual([201, 3]);
    });
  });

  describe('JSON body checks before the schema', () => {
    beforeAll(async () => {
      await createRunning(app, { key: 'checks', arms });
    });
    const json = { 'content-type': 'application/json' };

    it('malformed UTF-8 is a 400 invalid_utf8 on the direct route and on Nest routes, never a U+FFFD', async () => {
      // "u\xff1": a byte that is never valid UTF-8, which a lenient decoder turns into U+FFFD.
      const body = Buffer.concat([
        Buffer.from('{"experiment":"checks","userId":"u'),
        Buffer.from([0xff]),
        Buffer.from('1"}'),
      ]);
      for (const url of ['/v1/assign', '/v1/assign/batch', '/v1/experiments/checks/phases']) {
        const res = await raw('POST', url, json, body);
        expect([url, res.status, res.body.error.code]).toEqual([url, 400, 'invalid_utf8']);
        expect(res.body.error.message).toContain('UTF-8');
      }
      // A truncated multi-byte sequence and an encoded surrogate (CESU-8) too.
      for (const bytes of [
        [0xe2, 0x82],
        [0xed, 0xa0, 0x80],
      ]) {
        const res = await raw(
          'POST',
          '/v1/assign',
          json,
          Buffer.concat([
            Buffer.from('{"experiment":"checks","userId":"'),
            Buffer.from(bytes),
            Buffer.from('"}'),
          ]),
        );
        expect([res.status, res.body.error.code]).toEqual([400, 'invalid_utf8']);
      }
    });

    it('a lone surrogate in a string value or an object key is a 400 invalid_unicode with its path', async () => {
      const inValue = await raw('POST', '/v1/assign', json, '{"experiment":"checks","userId":"u\\ud800"}');
      expect([inValue.status, inValue.body.error.code]).toEqual([400, 'invalid_unicode']);
      expect(inValue.body.error.details).toEqual({
        path: 'userId',
        issues: [{ path: 'userId', message: 'contains a lone UTF-16 surrogate' }],
      });
      expect(inValue.body.error.message).toContain('userId');

      const inKey = await raw(
        'POST',
        '/v1/assign',
        json,
        '{"experiment":"checks","userId":"u","attributes":{"k\\udc00":1}}',
      );
      expect([inKey.status, inKey.body.error.code]).toEqual([400, 'invalid_unicode']);
      expect(inKey.body.error.details).toMatchObject({ path: 'attributes.k\\udc00' });

      const inBatch = await raw(
        'POST',
        '/v1/assign/batch',
        json,
        '{"items":[{"experiment":"checks","userId":"ok"},{"experiment":"checks","userId":"\\udfff"}]}',
      );
      expect([inBatch.status, inBatch.body.error.details?.path]).toEqual([400, 'items.1.userId']);

      // A well-formed pair written as escapes is fine.
      const pair = await raw(
        'POST',
        '/v1/assign',
        json,
        '{"experiment":"checks","userId":"u\\ud83d\\ude00"}',
      );
      expect([pair.status, pair.body.experiment]).toEqual([200, 'checks']);
    });

    it('nesting up to HTTP_JSON_MAX_DEPTH (64) reaches the schema; one more level, or 100,000, is a 400 json_too_deep', async () => {
      // The root object is level 1, so `attributes` holds 63 levels at the limit.
      const at = `{"experiment":"checks","userId":"u","attributes":{"a":${nested(62)}}}`;
      const atLimit = await raw('POST', '/v1/assign', json, at);
      expect(atLimit.status).toBe(400);
      expect(atLimit.body.error.code).toBe('validation_failed');

      const over = `{"experiment":"checks","userId":"u","attributes":{"a":${nested(63)}}}`;
      const overLimit = await raw('POST', '/v1/assign', json, over);
      expect([overLimit.status, overLimit.body.error.code]).toEqual([400, 'json_too_deep']);
      expect(overLimit.body.error.message).toContain('64');
      expect(overLimit.body.error.message).toContain('HTTP_JSON_MAX_DEPTH');
      expect(overLimit.body.error.details).toMatchObject({
        maxDepth: 64,
        path: `attributes.a${'.0'.repeat(62)}`,
      });

      const started = Date.now();
      for (const url of ['/v1/assign', '/v1/assign/batch', '/v1/experiments/checks/phases']) {
        const deep = await raw('POST', url, json, nested(100_000));
        expect([url, deep.status, deep.body.error.code]).toEqual([url, 400, 'json_too_deep']);
      }
      expect(Date.now() - started).toBeLessThan(5_000);
      expect((await app.request('GET', '/health/live')).status).toBe(200);
    });
  });

  describe('security headers', () => {
    const expectHelmet = (headers: Record<string, unknown>, what: string): void => {
      expect({ what, nosniff: headers['x-content-type-options'] }).toEqual({ what, nosniff: 'nosniff' });
      expect({ what, frame: headers['x-frame-options'] }).toEqual({ what, frame: 'SAMEORIGIN' });
      expect(String(headers['content-security-policy'])).toContain("default-src 'self'");
      expect(String(headers['content-security-policy'])).toContain("frame-ancestors 'self'");
      expect(String(headers['content-security-policy'])).not.toContain('upgrade-insecure-requests');
      expect(headers['strict-transport-security']).toBeDefined();
      expect(headers['cross-origin-opener-policy']).toBe('same-origin');
      expect(headers['referrer-policy']).toBe('no-referrer');
      expect(headers['x-powered-by']).toBeUndefined();
    };

    it('are on the direct route, Nest routes, errors, health, metrics and docs', async () => {
      await createRunning(app, { key: 'headers', arms });
      const json = { 'content-type': 'application/json' };
      const cases: Array<[string, 'GET' | 'POST', string, string | undefined]> = [
        ['direct route', 'POST', '/v1/assign', '{"experiment":"headers","userId":"u"}'],
        ['direct route error', 'POST', '/v1/assign', '{'],
        ['Nest route', 'GET', '/v1/experiments/headers', undefined],
        ['Nest 404', 'GET', '/v1/experiments/nope', undefined],
        ['unknown route', 'GET', '/nowhere', undefined],
        ['health', 'GET', '/health/live', undefined],
        ['metrics', 'GET', '/metrics', undefined],
        ['docs', 'GET', '/docs', undefined],
        ['docs-json', 'GET', '/docs-json', undefined],
      ];
      for (const [what, method, url, payload] of cases) {
        const res = await fastify.inject({
          method,
          url,
          headers: payload ? json : {},
          ...(payload ? { payload } : {}),
        });
        expectHelmet(res.headers, what);
      }
    });

    it('Swagger UI at /docs loads under the CSP: no inline script, same-origin scripts and styles, inline styles allowed', async () => {
      const page = await fastify.inject({ method: 'GET', url: '/docs' });
      expect(page.statusCode).toBe(200);
      const csp = String(page.headers['content-security-policy']);
      const directive = (name: string): string[] =>
        (
          csp
            .split(';')
            .map((d) => d.trim())
            .find((d) => d.startsWith(`${name} `)) ?? ''
        )
          .split(' ')
          .slice(1);
      const html = page.body;
      const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
      expect(scripts.length).toBeGreaterThan(0);
      for (const [, attrs, inline] of scripts) {
        // Every script is a file of the service itself (script-src 'self'), none inline.
        expect(inline.trim()).toBe('');
        expect(attrs).toMatch(/src="\.\/docs\/[\w.-]+\.js"/);
      }
      expect(directive('script-src')).toEqual(["'self'"]);
      // Swagger UI's page and components use inline <style> and style attributes.
      expect(html).toContain('<style>');
      expect(directive('style-src')).toEqual(expect.arrayContaining(["'self'", "'unsafe-inline'"]));
      expect(directive('img-src')).toEqual(expect.arrayContaining(["'self'", 'data:']));
      const assets = [
        ...[...html.matchAll(/src="\.\/docs\/([\w.-]+)"/g)].map((m) => m[1]),
        ...[...html.matchAll(/href="\.\/docs\/([\w.-]+\.css)"/g)].map((m) => m[1]),
      ];
      expect(assets).toEqual(
        expect.arrayContaining(['swagger-ui-bundle.js', 'swagger-ui-init.js', 'swagger-ui.css']),
      );
      for (const asset of assets) {
        const res = await fastify.inject({ method: 'GET', url: `/docs/${asset}` });
        expect([asset, res.statusCode]).toEqual([asset, 200]);
      }
      // The document the UI fetches (connect-src falls back to default-src 'self').
      const init = await fastify.inject({ method: 'GET', url: '/docs/swagger-ui-init.js' });
      expect(init.body).toContain('"openapi"');
    });
  });
});
