/**
 * Direct routes: hot-path endpoints served by Fastify itself instead of through Nest's router.
 *
 * Nest's router wraps every handler in several layers (execution context, pipes, interceptors,
 * guards, response controller). Moving POST /v1/assign out of it served more requests in the same
 * benchmark run (median of five interleaved rounds; docs/perf/HISTORY.md). A direct route
 * keeps every platform convention that matters to callers and operators:
 *  - the same fastify hooks: correlation context, request metrics by route template;
 *  - the same JSON body parser and body limit as Nest's routes (set per route here);
 *  - the same error body (sendError, also for body-parser errors), Retry-After on 503;
 *  - an entry in the service's OpenAPI document (`openApi`), merged by createServiceApp.
 *
 * A provider declares its routes in its constructor (`directRoutes.add(...)`); they are registered
 * on the fastify instance when the application initializes, after the error handler is in place.
 * Validation stays the handler's job (parseOrThrow with the route's zod schema).
 */
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { OpenAPIObject, OperationObject } from '@nestjs/swagger';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { LOGGER } from '../platform.tokens';
import { sendError } from './http-error.filter';
import { type RouteAuth, routeAuthOpenApi } from '../auth/route-auth';

export type OpenApiOperation = OperationObject;

export interface DirectRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  /** Status of a successful answer; `handle` may set another one with `reply.code()`. */
  status: number;
  /** The scope a key needs and the rate-limit class (see auth/route-auth.ts); required. */
  auth: RouteAuth;
  /** Largest accepted body in bytes; the application's default when absent. */
  bodyLimit?: number;
  /** The answer's body; throw an AppError (or any error) for the platform's error body. */
  handle: (body: unknown, request: FastifyRequest, reply: FastifyReply) => Promise<unknown> | unknown;
  /** Its OpenAPI 3 operation (what @nestjs/swagger writes under `paths[url][method]`). */
  openApi: OpenApiOperation;
}

@Injectable()
export class DirectRoutes implements OnModuleInit {
  private readonly routes: DirectRoute[] = [];
  private registered = false;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Declares a route; call from a provider's constructor (before the application initializes). */
  add(route: DirectRoute): void {
    if (this.registered) throw new Error(`direct route ${route.method} ${route.url} added after init`);
    this.routes.push(route);
  }

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    const logger = this.logger;
    for (const route of this.routes) {
      fastify.route({
        method: route.method,
        url: route.url,
        config: { auth: route.auth },
        ...(route.bodyLimit === undefined ? {} : { bodyLimit: route.bodyLimit }),
        handler: async (request: FastifyRequest, reply: FastifyReply) => {
          try {
            void reply.code(route.status);
            const body = await route.handle(request.body, request, reply);
            return reply.sent ? reply : reply.send(body);
          } catch (err) {
            sendError(reply, request, err, logger);
            return reply;
          }
        },
      });
    }
    this.registered = true;
  }

  /** Adds the declared routes to an OpenAPI document built from Nest's controllers. */
  document(doc: OpenAPIObject): void {
    for (const route of this.routes) {
      const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      const auth = routeAuthOpenApi(route.auth);
      const operation = {
        ...route.openApi,
        ...auth,
        responses: { ...route.openApi.responses, ...auth.responses },
      };
      doc.paths[path] = { ...doc.paths[path], [route.method.toLowerCase()]: operation };
    }
  }
}
