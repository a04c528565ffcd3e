/**
 * Authentication, authorization and rate limits of every HTTP route, as fastify hooks that run
 * before the body is read:
 *
 * 1. `onRequest` (this file): the route's declaration (`config.auth`, see route-auth.ts) decides.
 *    `public` routes pass. A route that declares nothing answers 500 `route_unclassified`. Otherwise
 *    the `Authorization: Bearer llmk_...` key must verify against the KeyDirectory (401
 *    `unauthenticated`, one body for every reason, so it does not tell whether a key id exists), and
 *    hold the route's scope (403 `forbidden`; `platform:admin` also grants `admin`).
 * 2. The route's rate-limit hook (@fastify/rate-limit): one budget per key and route class per
 *    window, per replica; 429 `rate_limited` with Retry-After and the RateLimit headers.
 */
import rateLimit from '@fastify/rate-limit';
import { SCOPES } from '@llmops/contracts';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { Logger } from 'pino';
import type { BaseServiceConfig } from '../config/config';
import { AppError } from '../errors/app-error';
import { sendError } from '../http/http-error.filter';
import type { KeyDirectory } from './key-directory';
import { ForbiddenError, type Principal } from './principal';
import type { RouteAuth, RouteClass } from './route-auth';

export type AuthConfig = Pick<
  BaseServiceConfig,
  | 'AUTH_ENABLED'
  | 'RATE_LIMIT_WINDOW_MS'
  | 'RATE_LIMIT_ASSIGN'
  | 'RATE_LIMIT_INGEST'
  | 'RATE_LIMIT_WRITE'
  | 'RATE_LIMIT_READ'
>;

/** Who every request is when AUTH_ENABLED=false (benchmarks only). */
const AUTH_DISABLED_PRINCIPAL: Principal = {
  keyId: 'auth-disabled',
  project: 'default',
  scopes: new Set(SCOPES),
};

const BEARER = 'Bearer ';

export class UnauthenticatedError extends AppError {
  constructor() {
    super(
      401,
      'unauthenticated',
      'A valid API key is required: send "Authorization: Bearer llmk_<keyId>_<secret>". The key is missing, malformed, unknown, expired or revoked.',
    );
  }
}

/** SwaggerModule's routes: `/docs`, `/docs/...`, `/docs-json`, `/docs-yaml`. */
const API_DOCUMENT_ROUTE = /^\/docs(?:-json|-yaml|\/.*)?$/;

declare module 'fastify' {
  interface FastifyRequest {
    /** The rate-limit class of the route, set by its auth hook. */
    routeClass: RouteClass | null;
  }
}

export async function installAuth(
  fastify: FastifyInstance,
  options: { directory: KeyDirectory | undefined; config: AuthConfig; logger: Logger },
): Promise<void> {
  const { directory, config, logger } = options;
  if (config.AUTH_ENABLED && !directory) {
    throw new Error(
      'authentication is enabled but the service has no KeyDirectory (PlatformModule provides it)',
    );
  }
  fastify.decorateRequest('principal', null);
  fastify.decorateRequest('routeClass', null);
  const fail = (request: FastifyRequest, reply: FastifyReply, error: AppError): void => {
    if (error.status === 401) void reply.header('www-authenticate', 'Bearer');
    sendError(reply, request, error, logger);
  };
  const unclassified: onRequestHookHandler = (request, reply) => {
    fail(
      request,
      reply,
      new AppError(500, 'route_unclassified', 'This route declares no scope; it is refused until it does.'),
    );
  };
  /** The hook of a route that needs `auth`, with the declaration in its closure. */
  const guard = (auth: RouteAuth): onRequestHookHandler => {
    const { scope } = auth;
    return (request, reply, done) => {
      request.routeClass = auth.class;
      if (!directory) {
        request.principal = AUTH_DISABLED_PRINCIPAL;
        return done();
      }
      const header = request.headers.authorization;
      const principal =
        typeof header === 'string' && header.startsWith(BEARER)
          ? directory.verify(header.slice(BEARER.length).trim())
          : undefined;
      if (!principal) return fail(request, reply, new UnauthenticatedError());
      if (!(principal.scopes.has(scope) || (scope === 'admin' && principal.scopes.has('platform:admin')))) {
        return fail(
          request,
          reply,
          new ForbiddenError(`This API key lacks the "${scope}" scope this route needs.`, {
            keyId: principal.keyId,
            requiredScope: scope,
          }),
        );
      }
      request.principal = principal;
      done();
    };
  };
  // Each route gets its own first onRequest hook, from its declaration. No route matched (a 404 or
  // 405 answer): no hook, since nothing is protected there and routes are public knowledge.
  fastify.addHook('onRoute', (route) => {
    // The API documents (SwaggerModule's routes) are public, like the probes.
    if (API_DOCUMENT_ROUTE.test(route.url)) route.config = { ...route.config, auth: 'public' };
    const auth = route.config?.auth;
    if (auth === 'public') return;
    const hook = auth === undefined ? unclassified : guard(auth);
    const existing = route.onRequest === undefined ? [] : [route.onRequest].flat();
    route.onRequest = [hook, ...existing];
  });

  const limits: Record<RouteClass, number> = {
    assign: config.RATE_LIMIT_ASSIGN,
    ingest: config.RATE_LIMIT_INGEST,
    write: config.RATE_LIMIT_WRITE,
    read: config.RATE_LIMIT_READ,
  };
  // Registered (and loaded) before the application declares its routes: the plugin adds its hook
  // to every route declared after it, and that hook runs after the auth hook above.
  await fastify.register(rateLimit, {
    global: true,
    timeWindow: config.RATE_LIMIT_WINDOW_MS,
    max: (request) => limits[request.routeClass ?? 'read'],
    keyGenerator: (request) => `${request.principal?.keyId ?? ''}:${request.routeClass ?? ''}`,
    // Public routes and requests the auth hook answered carry no principal.
    allowList: (request) => request.principal === null || !config.AUTH_ENABLED,
    enableDraftSpec: true,
    // Counters kept per replica (least recently used beyond): one per active key and route class.
    cache: 100_000,
    errorResponseBuilder: (request, context) => {
      const seconds = Math.max(1, Math.ceil(context.ttl / 1000));
      return new AppError(
        429,
        'rate_limited',
        `This API key is over its "${request.routeClass ?? 'read'}" limit of ${context.max} requests per ${config.RATE_LIMIT_WINDOW_MS} ms; retry after ${seconds} s.`,
        { limit: context.max, windowMs: config.RATE_LIMIT_WINDOW_MS },
        seconds,
      );
    },
  });
}
