import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { CORRELATION_HEADER } from '../logging/context';
import { mapError } from './error-body';
import { contextOf } from './request-context';

/** The one HTTP error filter: stable body, Retry-After for 503, internals hidden and logged. */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    sendError(reply, request, exception, this.logger);
  }
}

export function sendError(
  reply: FastifyReply,
  request: FastifyRequest,
  exception: unknown,
  logger: Logger,
): void {
  const { correlationId, traceparent } = contextOf(request);
  const mapped = mapError(exception, correlationId);
  if (mapped.internal) {
    logger.error(
      { err: exception, correlationId, traceparent, method: request.method, url: request.url },
      'request failed',
    );
  } else if (mapped.status === 503) {
    logger.warn(
      { code: mapped.body.error.code, correlationId, traceparent, url: request.url },
      mapped.body.error.message,
    );
  }
  if (mapped.retryAfterSeconds !== undefined)
    void reply.header('retry-after', String(mapped.retryAfterSeconds));
  void reply.header(CORRELATION_HEADER, correlationId);
  void reply.status(mapped.status).send(mapped.body);
}
