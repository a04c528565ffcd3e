import { contextOf, type Principal, principalOf, type RequestContext } from '@llmops/platform';
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/**
 * Who reads or changes experiments: the authenticated key (its project is the experiments'; its key
 * id the audit actor), the request's context, and the request's `Authorization` header, which the
 * prompt resolver forwards to the registry so that arm prompt refs resolve in the caller's project.
 */
export interface ExperimentCaller {
  principal: Principal;
  ctx: RequestContext;
  /** Absent when the request had none (only with `AUTH_ENABLED=false`). */
  authorization?: string;
}

/** A Nest handler parameter: the request's `ExperimentCaller`. */
export const Caller = createParamDecorator((_data: unknown, host: ExecutionContext): ExperimentCaller => {
  const request = host.switchToHttp().getRequest<FastifyRequest>();
  const { authorization } = request.headers;
  return {
    principal: principalOf(request),
    ctx: contextOf(request),
    ...(authorization === undefined ? {} : { authorization }),
  };
});
