/**
 * The platform's route protection against a real broker: keys from the compacted API keys topic,
 * 401 / 403 / 500-unclassified / public routes, per-key rate limits, and keys never logged.
 */
import 'reflect-metadata';
import { parseApiKey } from '@llmops/hashing';
import { Controller, Get, Injectable, Module, Post } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  expectEventually,
  issueTestKey,
  republishTestKey,
  revokeTestKey,
  TEST_KEY_PEPPER,
  testInfra,
  type TestInfra,
} from '@llmops/testing';
import {
  Authorize,
  baseServiceConfig,
  createServiceApp,
  CurrentPrincipal,
  DirectRoutes,
  KeyDirectory,
  LOGGER,
  PlatformModule,
  type Principal,
  STALE_AFTER_MS,
} from '../src';

@Controller('v1/things')
class ThingsController {
  @Get()
  @Authorize('prompts:read', 'read')
  list(@CurrentPrincipal() principal: Principal): unknown {
    return { project: principal.project, keyId: principal.keyId };
  }

  @Post()
  @Authorize('prompts:write', 'write')
  create(): unknown {
    return { created: true };
  }

  @Get('unclassified')
  unclassified(): unknown {
    return { leaked: true };
  }
}

@Injectable()
class FastRoute {
  constructor(routes: DirectRoutes) {
    routes.add({
      method: 'POST',
      url: '/v1/fast',
      status: 202,
      auth: { scope: 'ingest', class: 'ingest' },
      handle: () => ({ accepted: true }),
      openApi: { responses: { '202': { description: 'accepted' } } },
    });
  }
}

describe('route protection (API keys, scopes, rate limits)', () => {
  let infra: TestInfra;
  let app: NestFastifyApplication;
  const logLines: string[] = [];

  beforeAll(async () => {
    infra = testInfra();
    const config = baseServiceConfig(0, 'authtest').parse({
      KAFKA_BROKERS: infra.kafkaBrokers,
      KAFKA_TOPIC_PREFIX: infra.topicPrefix,
      LLMOPS_KEY_PEPPER: TEST_KEY_PEPPER,
      LOG_LEVEL: 'trace',
      RATE_LIMIT_WRITE: '5',
      RATE_LIMIT_WINDOW_MS: '60000',
    });
    @Module({
      imports: [PlatformModule.forRoot({ config, topics: [], mongo: false })],
      controllers: [ThingsController],
      providers: [FastRoute],
    })
    class TestModule {}
    app = await createServiceApp(TestModule, { title: 'auth test', description: 'auth test' });
    // Capture every log line the service writes.
    const logger = app.get(LOGGER) as { [k: symbol]: unknown };
    const streamSym = Object.getOwnPropertySymbols(logger).find((s) => s.description === 'pino.stream');
    const stream = logger[streamSym!] as { write: (line: string) => void };
    const write = stream.write.bind(stream);
    stream.write = (line: string) => {
      logLines.push(line);
      write(line);
    };
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  }, 60_000);

  afterAll(async () => {
    await app?.close();
  });

  const call = async (method: 'GET' | 'POST', url: string, headers: Record<string, string> = {}) => {
    const res = await app
      .getHttpAdapter()
      .getInstance()
      .inject({ method, url, headers, payload: method === 'POST' ? {} : undefined });
    return {
      status: res.statusCode,
      body: res.json() as { error?: { code: string; message: string } },
      headers: res.headers,
    };
  };

  const issue = async (opts: Parameters<typeof issueTestKey>[1] = {}) => {
    const issued = await issueTestKey(infra, opts);
    await app.get(KeyDirectory).waitFor(issued.keyId);
    return issued;
  };

  it('serves a key with the scope, as its project and key id', async () => {
    const key = await issue({ project: 'team-a', scopes: ['prompts:read'] });
    const res = await call('GET', '/v1/things', key.header);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ project: 'team-a', keyId: key.keyId });
  });

  it('answers one 401 body for a missing, malformed, unknown, wrong-secret, revoked or expired key', async () => {
    const valid = await issue({ scopes: ['prompts:read'] });
    const expired = await issue({ scopes: ['prompts:read'], expiresAt: new Date(Date.now() + 1_500) });
    const unknown = valid.key.replace(valid.keyId, 'f'.repeat(20));
    const wrongSecret = valid.key.slice(0, -4) + (valid.key.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    const bodies: unknown[] = [];
    const presented: Array<Record<string, string>> = [
      {},
      { authorization: 'Bearer not-a-key' },
      { authorization: valid.key }, // no Bearer
      { authorization: `Bearer ${unknown}` },
      { authorization: `Bearer ${wrongSecret}` },
    ];
    for (const headers of presented) {
      const res = await call('GET', '/v1/things', headers);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      bodies.push(res.body.error!.code + res.body.error!.message);
    }
    expect(new Set(bodies).size).toBe(1);

    await expectEventually(
      async () => expect((await call('GET', '/v1/things', expired.header)).status).toBe(401),
      {
        timeoutMs: 10_000,
      },
    );
    expect((await call('GET', '/v1/things', valid.header)).status).toBe(200);
    await revokeTestKey(infra, valid);
    await expectEventually(
      async () => expect((await call('GET', '/v1/things', valid.header)).status).toBe(401),
      {
        timeoutMs: 5_000,
      },
    );
  });

  it('keeps a revoked key dead when an older snapshot of it is read again', async () => {
    const key = await issue({ scopes: ['prompts:read'] });
    await revokeTestKey(infra, key);
    await expectEventually(
      async () => expect((await call('GET', '/v1/things', key.header)).status).toBe(401),
      {
        timeoutMs: 5_000,
      },
    );
    // The snapshot from before the revocation, read after it (a re-read from the earliest offset).
    await republishTestKey(infra, key);
    const marker = await issue({ scopes: ['prompts:read'] }); // published after it: read after it too
    expect((await call('GET', '/v1/things', marker.header)).status).toBe(200);
    expect((await call('GET', '/v1/things', key.header)).status).toBe(401);
  });

  it('reports the copy of the keys ready once read, and not ready when it stops hearing from the broker', async () => {
    const directory = app.get(KeyDirectory);
    await expect(directory.readinessCheck.check()).resolves.toBeUndefined();
    const now = Date.now;
    try {
      Date.now = () => now() + STALE_AFTER_MS + 5_000;
      await expect(directory.readinessCheck.check()).rejects.toThrow(/no fetch from the API keys topic/);
    } finally {
      Date.now = now;
    }
  });

  it('answers 403 for a key without the route scope, on Nest and direct routes', async () => {
    const key = await issue({ scopes: ['prompts:read'] });
    const post = await call('POST', '/v1/things', key.header);
    expect(post.status).toBe(403);
    expect(post.body.error).toMatchObject({ code: 'forbidden' });
    expect((await call('POST', '/v1/fast', key.header)).status).toBe(403);
    const ingest = await issue({ scopes: ['ingest'] });
    expect((await call('POST', '/v1/fast', ingest.header)).status).toBe(202);
  });

  it('fails closed on a route that declares no scope, and keeps probes public', async () => {
    const key = await issue();
    const res = await call('GET', '/v1/things/unclassified', key.header);
    expect(res.status).toBe(500);
    expect(res.body.error).toMatchObject({ code: 'route_unclassified' });
    expect((await call('GET', '/health/live')).status).toBe(200);
    expect(
      (await app.getHttpAdapter().getInstance().inject({ method: 'GET', url: '/metrics' })).statusCode,
    ).toBe(200);
    expect(
      (await app.getHttpAdapter().getInstance().inject({ method: 'GET', url: '/docs-json' })).statusCode,
    ).toBe(200);
  });

  it('documents each route scope and rate-limit class as OpenAPI extensions, on Nest and direct routes', async () => {
    const res = await app.getHttpAdapter().getInstance().inject({ method: 'GET', url: '/docs-json' });
    const paths = (res.json() as { paths: Record<string, Record<string, Record<string, unknown>>> }).paths;
    const declared = (path: string, method: string) => ({
      scope: paths[path][method]['x-llmops-scope'],
      class: paths[path][method]['x-llmops-route-class'],
    });
    expect(declared('/v1/things', 'get')).toEqual({ scope: 'prompts:read', class: 'read' });
    expect(declared('/v1/things', 'post')).toEqual({ scope: 'prompts:write', class: 'write' });
    expect(declared('/v1/fast', 'post')).toEqual({ scope: 'ingest', class: 'ingest' });
  });

  it('limits each key on its own: a flooded key gets 429 with Retry-After, another key of the project does not', async () => {
    const flooded = await issue({ project: 'team-b', scopes: ['prompts:write'] });
    const other = await issue({ project: 'team-b', scopes: ['prompts:write'] });
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof call>> | undefined;
    for (let i = 0; i < 8; i++) {
      const res = await call('POST', '/v1/things', flooded.header);
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    expect(statuses.slice(0, 5)).toEqual([201, 201, 201, 201, 201]);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
    expect(limited!.body.error).toMatchObject({ code: 'rate_limited' });
    expect(Number(limited!.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited!.headers['ratelimit-limit']).toBe('5');
    expect(limited!.headers['ratelimit-remaining']).toBe('0');
    expect(Number(limited!.headers['ratelimit-reset'])).toBeGreaterThan(0);
    // The same project's other key, and the flooded key's other route classes, are not throttled.
    expect((await call('POST', '/v1/things', other.header)).status).toBe(201);
    const reader = await issue({ project: 'team-b', scopes: ['prompts:read'] });
    expect((await call('GET', '/v1/things', reader.header)).status).toBe(200);
  });

  it('never writes a key into the logs', async () => {
    const key = await issue({ scopes: ['prompts:read'] });
    await call('GET', '/v1/things', key.header);
    await call('GET', '/v1/things', { authorization: `Bearer ${key.key}x` });
    await call('GET', '/v1/things/unclassified', key.header); // logs a 500 with the request
    expect(logLines.length).toBeGreaterThan(0);
    // The whole secret: a fragment between two of its `_` could occur in a log line by chance.
    const secret = parseApiKey(key.key)!.secret;
    expect(logLines.filter((l) => l.includes(secret))).toEqual([]);
  });
});
