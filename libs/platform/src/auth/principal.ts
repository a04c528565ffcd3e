/**
 * The authenticated caller of a request: an API key of one project with its scopes. The platform's
 * onRequest hook sets it on every authenticated request; handlers read it with `principalOf(request)`
 * (direct routes) or the `@CurrentPrincipal()` parameter (Nest handlers). Use cases take the project
 * from it, never from the request body, and record its key id as the actor of state changes.
 */
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Scope } from '@llmops/contracts';
import { AppError } from '../errors/app-error';

export interface Principal {
  /** The key's public id: the actor in audit records and logs. */
  keyId: string;
  project: string;
  scopes: ReadonlySet<Scope>;
  /** The aliases the key may move with `prompts:promote`; undefined = any. */
  aliases?: readonly string[];
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the platform's auth hook; read it with `principalOf(request)`. */
    principal: Principal | null;
  }
}

/** The request's authenticated caller. Throws on a route the auth hook did not authenticate. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) {
    throw new AppError(
      500,
      'route_unclassified',
      'This route has no authenticated caller; it is misconfigured.',
    );
  }
  return request.principal;
}

/** A Nest handler parameter: the authenticated caller (`@CurrentPrincipal() principal: Principal`). */
export const CurrentPrincipal = createParamDecorator((_data: unknown, host: ExecutionContext) =>
  principalOf(host.switchToHttp().getRequest<FastifyRequest>()),
);

export class ForbiddenError extends AppError {
  constructor(message: string, details?: Record<string, unknown>) {
    super(403, 'forbidden', message, details);
  }
}

/** Throws 403 unless the key may move `alias` (a key may be limited to some aliases). */
export function assertMayMoveAlias(principal: Principal, alias: string): void {
  if (principal.aliases && !principal.aliases.includes(alias)) {
    throw new ForbiddenError(`This API key may not move the alias "${alias}".`, {
      keyId: principal.keyId,
      allowedAliases: principal.aliases,
    });
  }
}

/**
 * Throws 403 unless the key may have `alias` moved: it holds `prompts:promote` and may move `alias`
 * (`assertMayMoveAlias`). What moving an alias takes, whether by hand (`PUT .../aliases/{alias}`,
 * whose route needs the scope) or on the key's behalf later (an experiment's `decision.autoPromote`).
 */
export function assertMayPromote(principal: Principal, alias: string): void {
  if (!principal.scopes.has('prompts:promote')) {
    throw new ForbiddenError(
      `This API key lacks the "prompts:promote" scope that moving the alias "${alias}" needs.`,
      { keyId: principal.keyId, requiredScope: 'prompts:promote', alias },
    );
  }
  assertMayMoveAlias(principal, alias);
}
