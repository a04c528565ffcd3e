/**
 * Every route declares who may call it. Nest routes: `@Authorize(scope, routeClass)` on the handler;
 * direct routes: `DirectRoute.auth`; the platform's own probes and documents: `@PublicRoute()`. The
 * declaration travels in the fastify route's `config` (Nest's `@RouteConfig`), where the platform's
 * onRequest hook reads it: a route that declares nothing answers 500 `route_unclassified`, so a route
 * added without a decision fails closed (and the route matrix test fails).
 */
import { applyDecorators } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiBearerAuth, ApiExtension, ApiResponse } from '@nestjs/swagger';
import type { Scope } from '@llmops/contracts';

/** Rate-limit classes: each key has one budget per class (README, "Rate limits"). */
export const ROUTE_CLASSES = ['assign', 'ingest', 'write', 'read'] as const;
export type RouteClass = (typeof ROUTE_CLASSES)[number];

export interface RouteAuth {
  /** The scope a key needs for this route. */
  scope: Scope;
  /** The rate-limit budget the route draws from. */
  class: RouteClass;
}

/** What a route's fastify `config.auth` holds. */
export type RouteAuthConfig = RouteAuth | 'public';

/** The OpenAPI security scheme name of API keys. */
export const API_KEY_SECURITY = 'apiKey';

/** OpenAPI operation extensions with the declaration, for tools (the route table, the route matrix test). */
export const OPENAPI_SCOPE_EXTENSION = 'x-llmops-scope';
export const OPENAPI_ROUTE_CLASS_EXTENSION = 'x-llmops-route-class';

/** A Nest handler callable with a key holding `scope`; it draws from the key's `routeClass` budget. */
export function Authorize(scope: Scope, routeClass: RouteClass): MethodDecorator {
  const auth: RouteAuth = { scope, class: routeClass };
  return applyDecorators(
    RouteConfig({ auth }),
    ApiBearerAuth(API_KEY_SECURITY),
    ApiExtension(OPENAPI_SCOPE_EXTENSION, scope),
    ApiExtension(OPENAPI_ROUTE_CLASS_EXTENSION, routeClass),
    ApiResponse({ status: 401, description: 'Missing, malformed, unknown, expired or revoked API key.' }),
    ApiResponse({ status: 403, description: `The key lacks the \`${scope}\` scope.` }),
    ApiResponse({
      status: 429,
      description: `Over the key's \`${routeClass}\` rate limit; see Retry-After.`,
    }),
  );
}

/** A route anyone who reaches the port may call: health probes, metrics, API documents. */
export function PublicRoute(): MethodDecorator {
  return RouteConfig({ auth: 'public' satisfies RouteAuthConfig });
}

/** The OpenAPI fragment of a direct route's declaration (what `@Authorize` adds to a Nest route). */
export function routeAuthOpenApi(auth: RouteAuth): {
  security: Array<Record<string, string[]>>;
  responses: Record<string, { description: string }>;
  [OPENAPI_SCOPE_EXTENSION]: Scope;
  [OPENAPI_ROUTE_CLASS_EXTENSION]: RouteClass;
} {
  return {
    security: [{ [API_KEY_SECURITY]: [] }],
    [OPENAPI_SCOPE_EXTENSION]: auth.scope,
    [OPENAPI_ROUTE_CLASS_EXTENSION]: auth.class,
    responses: {
      '401': { description: 'Missing, malformed, unknown, expired or revoked API key.' },
      '403': { description: `The key lacks the \`${auth.scope}\` scope.` },
      '429': { description: `Over the key's \`${auth.class}\` rate limit; see Retry-After.` },
    },
  };
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route's declaration: read by the platform's auth hook (auth-hook.ts). */
    auth?: RouteAuthConfig;
  }
}
