import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { LOGGER } from '../platform.tokens';
import { sendError } from './http-error.filter';

/**
 * Restores the platform's handler for errors fastify raises outside route handlers (body parsing).
 * createServiceApp installs it before `app.init()`, but Nest's init replaces it with its own, which
 * turns fastify errors into plain HttpExceptions: malformed JSON then answers `bad_request` instead
 * of the documented `invalid_json` (the status, 400, is right either way). Re-installing it after
 * the routes exist (bootstrap hook, before fastify is ready) gives the stable codes back. Route
 * handler errors still go through Nest's filter; only parser/hook errors use this.
 */
@Injectable()
export class ParserErrorHandler implements OnApplicationBootstrap {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.setErrorHandler((error, request, reply) => sendError(reply, request, error, this.logger));
  }
}
