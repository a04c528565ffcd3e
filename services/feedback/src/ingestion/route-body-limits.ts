import { SERVICE_CONFIG } from '@llmops/platform';
import { Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, RouteOptions } from 'fastify';
import type { FeedbackConfig } from '../config/feedback.config';

/** Route config flag (`@RouteConfig({ [BODY_LIMIT]: 'batch' })`) choosing the body limit of a route. */
export const BODY_LIMIT = 'llmopsBodyLimit';
export type BodyLimitKind = 'single' | 'batch';

/**
 * Nest's `@RouteConfig` can only set fastify's `config`, not the route's `bodyLimit`, and the limits
 * come from configuration, not from decorator constants. This `onRoute` hook bridges both: it runs
 * while Nest registers the routes (during `app.init()`, after providers were constructed) and sets
 * fastify's own per-route `bodyLimit`, so an oversized body is refused from Content-Length or while
 * streaming (413 payload_too_large), before it is buffered or parsed.
 *
 * (A generic version of this belongs in libs/platform's createServiceApp; see the README.)
 */
@Injectable()
export class RouteBodyLimits {
  constructor(adapterHost: HttpAdapterHost, @Inject(SERVICE_CONFIG) config: FeedbackConfig) {
    const fastify = adapterHost.httpAdapter.getInstance<FastifyInstance>();
    const limits: Record<BodyLimitKind, number> = {
      single: config.FEEDBACK_MAX_BODY_BYTES,
      batch: config.FEEDBACK_MAX_BATCH_BODY_BYTES,
    };
    fastify.addHook('onRoute', (route: RouteOptions) => {
      const kind = (route.config as Record<string, unknown> | undefined)?.[BODY_LIMIT];
      if (kind === 'single' || kind === 'batch') route.bodyLimit = limits[kind];
    });
  }
}
