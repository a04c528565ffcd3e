/**
 * The request context of an HTTP request. createServiceApp's onRequest hook opens it (from the
 * `x-correlation-id` and `traceparent` headers, or new ids) and stores it on the fastify request;
 * direct routes read it with `contextOf(request)`, Nest handlers with the `@RequestCtx()` parameter.
 */
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CORRELATION_HEADER, newContext, type RequestContext, TRACEPARENT_HEADER } from '../logging/context';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the platform's onRequest hook; read it with `contextOf(request)`. */
    platformContext: RequestContext | null;
  }
}

/** Installs the hook that gives every request its context and echoes the correlation id. */
export function installRequestContext(fastify: FastifyInstance): void {
  // Declared once with a null value, so every request object has the same shape.
  fastify.decorateRequest('platformContext', null);
  fastify.addHook('onRequest', (request, reply, done) => {
    const ctx = openContext(request);
    void reply.header(CORRELATION_HEADER, ctx.correlationId);
    done();
  });
}

/** The context from the caller's headers (or new ids), remembered on the request. */
function openContext(request: FastifyRequest): RequestContext {
  const header = request.headers[CORRELATION_HEADER];
  const parent = request.headers[TRACEPARENT_HEADER];
  const ctx = newContext(
    typeof header === 'string' ? header : undefined,
    typeof parent === 'string' ? parent : undefined,
  );
  request.platformContext = ctx;
  return ctx;
}

/**
 * The request's context. A request that never went through the hook (an error fastify answers
 * before the onRequest hooks, or a hand-made request in a unit test) gets one from its headers
 * at the first read, remembered on the request, so all its readers agree.
 */
export function contextOf(request: FastifyRequest): RequestContext {
  return request.platformContext ?? openContext(request);
}

/** A Nest handler parameter: the request's context (`@RequestCtx() ctx: RequestContext`). */
export const RequestCtx = createParamDecorator((_data: unknown, host: ExecutionContext) =>
  contextOf(host.switchToHttp().getRequest<FastifyRequest>()),
);
