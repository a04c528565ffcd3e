import fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import { installMethodNotAllowed, routePattern } from './method-not-allowed';

describe('routePattern', () => {
  it('matches a route template against raw request paths', () => {
    const p = routePattern('/v1/prompts/:name/versions/:ref');
    expect(p.test('/v1/prompts/summarizer/versions/3')).toBe(true);
    expect(p.test('/v1/prompts/a%2Fb/versions/x.y')).toBe(true);
    expect(p.test('/v1/prompts/summarizer/versions')).toBe(false);
    expect(p.test('/v1/prompts/summarizer/versions/3/extra')).toBe(false);
    expect(routePattern('/docs/*').test('/docs/static/index.html')).toBe(true);
    expect(routePattern('/v1/a.b').test('/v1/aXb')).toBe(false);
  });
});

describe('installMethodNotAllowed', () => {
  let app: FastifyInstance;

  beforeAll(async () => {
    app = fastify();
    const logger = pino({ level: 'silent' });
    installMethodNotAllowed(app, logger);
    app.get('/v1/things/:id', () => ({ ok: true }));
    app.post('/v1/things', () => ({ ok: true }));
    app.put('/v1/things/:id', () => ({ ok: true }));
    app.get('/v1/things/latest', () => ({ ok: true }));
    await app.ready();
  });

  afterAll(() => app.close());

  it('answers 405 with Allow (and the platform error body) for a method the path does not support', async () => {
    const res = await app.inject({ method: 'DELETE', url: '/v1/things/7?x=1' });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD, PUT');
    expect(res.json()).toEqual({
      error: {
        code: 'method_not_allowed',
        message: 'DELETE is not supported on this path; use GET, HEAD, PUT.',
        details: { allowed: ['GET', 'HEAD', 'PUT'] },
      },
    });
  });

  it('decides before reading the body (a body method without Content-Type is still a 405)', async () => {
    const res = await app.inject({ method: 'PATCH', url: '/v1/things', payload: 'x=1' });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('POST');
    expect((await app.inject({ method: 'OPTIONS', url: '/v1/things/7' })).statusCode).toBe(405);
  });

  it("lists only a static route's methods for its exact path, not those of a parametric route it shadows", async () => {
    const res = await app.inject({ method: 'OPTIONS', url: '/v1/things/latest' });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
  });

  it('leaves unknown paths and supported methods alone', async () => {
    expect((await app.inject({ method: 'GET', url: '/v1/nothing' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/v1/things/7' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'HEAD', url: '/v1/things/7' })).statusCode).toBe(200);
  });
});
