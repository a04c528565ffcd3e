import Fastify from 'fastify';
import { contextOf, installRequestContext } from './request-context';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

async function app() {
  const fastify = Fastify();
  installRequestContext(fastify);
  // Two reads with an await between them: the context must not depend on the async call chain.
  fastify.post('/ctx', async (request) => {
    const first = contextOf(request);
    await new Promise((resolve) => setImmediate(resolve));
    return { first, second: contextOf(request) };
  });
  await fastify.ready();
  return fastify;
}

describe('request context on the fastify request', () => {
  it('continues the caller correlation id and trace, and echoes the id', async () => {
    const fastify = await app();
    const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const res = await fastify.inject({
      method: 'POST',
      url: '/ctx',
      headers: { 'x-correlation-id': 'corr-42', traceparent: parent },
    });
    const body = res.json<{ first: { correlationId: string; traceparent: string }; second: unknown }>();
    expect(res.headers['x-correlation-id']).toBe('corr-42');
    expect(body.first.correlationId).toBe('corr-42');
    const m = TRACEPARENT.exec(body.first.traceparent)!;
    expect(m[1]).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(m[2]).not.toBe('00f067aa0ba902b7');
    expect(body.second).toEqual(body.first);
    await fastify.close();
  });

  it('gives concurrent requests their own contexts and replaces unsafe ids', async () => {
    const fastify = await app();
    const answers = await Promise.all(
      ['a', 'b', 'c', 'bad id\nx'].map((id) =>
        fastify.inject({ method: 'POST', url: '/ctx', headers: { 'x-correlation-id': id } }),
      ),
    );
    const ids = answers.map((r) => r.json<{ first: { correlationId: string } }>().first.correlationId);
    expect(ids.slice(0, 3)).toEqual(['a', 'b', 'c']);
    expect(ids[3]).toMatch(/^[0-9a-f-]{36}$/);
    expect(answers[3].headers['x-correlation-id']).toBe(ids[3]);
    await fastify.close();
  });

  it('gives a request that skipped the hook a context from its headers, the same on every read', () => {
    const request = { platformContext: null, headers: {} } as unknown as Parameters<typeof contextOf>[0];
    const ctx = contextOf(request);
    expect(ctx.traceparent).toMatch(TRACEPARENT);
    expect(contextOf(request)).toBe(ctx);
    const withHeader = {
      platformContext: null,
      headers: { 'x-correlation-id': 'early-error-1' },
    } as unknown as Parameters<typeof contextOf>[0];
    expect(contextOf(withHeader).correlationId).toBe('early-error-1');
  });
});
