import { EVENT_TYPES } from '@llmops/contracts';
import {
  assertMayMoveAlias,
  contextFields,
  LOGGER,
  type Principal,
  type RequestContext,
  SERVICE_CONFIG,
} from '@llmops/platform';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { RegistryCache } from '../cache/registry-cache';
import type { RegistryConfig } from '../config/registry.config';
import { aliasMoveMessage, EventNotPublishableError, publishableMessage } from '../outbox/outbox-events';
import { OutboxPublisher } from '../outbox/outbox.publisher';
import { aliasNameProblem, LATEST_ALIAS } from '../domain/ref';
import type { MoveAliasRequest } from './dto/move-alias.request';
import type { AliasResponse } from './dto/version.response';
import { AliasMoveRepository, type UnpublishedAliasMove } from '../persistence/alias-move.repository';
import { PromptSummaryRepository } from '../persistence/prompt-summary.repository';
import { shortHashOf } from '../domain/prompt-version';
import {
  AliasConflictError,
  InvalidAliasError,
  notPublishableError,
  ReservedAliasError,
  WriteContentionError,
} from './prompts.errors';
import { REGISTRY_METRICS, type RegistryMetrics } from '../metrics/registry.metrics';
import { ResolveVersionUseCase } from './resolve-version.usecase';

const MAX_ATTEMPTS = 50;

/**
 * Moves an alias, optionally compare-and-set on the hash it points at now (`expected`).
 * The move is appended to the alias's log with rev = current rev + 1; the unique index on
 * (name, alias, rev) lets only one of two concurrent moves from the same state succeed, which
 * makes the `expected` check atomic with the write. The same document is the history entry and
 * the outbox record of the alias-moved event and of its audit record (actor = the caller's key id).
 */
@Injectable()
export class MoveAliasUseCase {
  constructor(
    private readonly resolver: ResolveVersionUseCase,
    private readonly moves: AliasMoveRepository,
    private readonly summaries: PromptSummaryRepository,
    private readonly cache: RegistryCache,
    private readonly outbox: OutboxPublisher,
    @Inject(SERVICE_CONFIG) private readonly config: RegistryConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(REGISTRY_METRICS) private readonly metrics: RegistryMetrics,
  ) {}

  async execute(
    principal: Principal,
    name: string,
    alias: string,
    request: MoveAliasRequest,
    ctx: RequestContext,
  ): Promise<AliasResponse> {
    // About the key, not the prompt: answered before anything is looked up.
    assertMayMoveAlias(principal, alias);
    if (alias === LATEST_ALIAS) throw new ReservedAliasError(alias);
    const problem = aliasNameProblem(alias);
    if (problem) throw new InvalidAliasError(alias, problem);
    const { project, keyId: actor } = principal;
    const target = (await this.resolver.resolve(project, name, request.ref)).version;

    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await this.moves.current(project, name, alias);
      const currentHash = current?.to ?? null;
      if (request.expected !== undefined && request.expected !== currentHash) {
        this.metrics.aliasMoves.inc({ outcome: 'conflict' });
        throw new AliasConflictError(name, alias, request.expected, currentHash, current?.toVersion ?? null);
      }
      if (current && currentHash === target.hash) {
        this.metrics.aliasMoves.inc({ outcome: 'unchanged' });
        return {
          name,
          alias,
          hash: current.to,
          shortHash: shortHashOf(current.to),
          version: current.toVersion,
          previous: current.from,
          rev: current.rev,
          movedAt: current.movedAt,
          actor: current.actor,
          ...(current.note !== undefined ? { note: current.note } : {}),
          moved: false,
        };
      }
      const move = {
        project,
        name,
        alias,
        rev: (current?.rev ?? 0) + 1,
        from: currentHash,
        fromVersion: current?.toVersion ?? null,
        to: target.hash,
        toVersion: target.version,
        actor,
        ...(request.note !== undefined ? { note: request.note } : {}),
        movedAt: new Date(),
        correlationId: ctx.correlationId,
        traceparent: ctx.traceparent,
      };
      this.assertPublishable(move);
      if ((await this.moves.insert(move)) === 'inserted') {
        this.cache.setAlias(project, name, alias, target.hash);
        this.outbox.kick();
        await this.summaries
          .applyAliasMove({ ...move, movedAt: move.movedAt.toISOString() })
          .catch((err: unknown) =>
            this.logger.warn(
              { ...contextFields(ctx), err, project, name, alias },
              'alias summary update failed; the outbox publisher will repair it',
            ),
          );
        this.metrics.aliasMoves.inc({ outcome: 'moved' });
        return {
          name,
          alias,
          hash: target.hash,
          shortHash: target.shortHash,
          version: target.version,
          previous: currentHash,
          rev: move.rev,
          movedAt: move.movedAt.toISOString(),
          actor,
          ...(request.note !== undefined ? { note: request.note } : {}),
          moved: true,
        };
      }
      // Another move took this rev: re-read (with `expected`, the check above now reports the conflict).
    }
    throw new WriteContentionError(`alias "${alias}" of "${name}"`);
  }

  /** Nothing is acknowledged that the outbox could not publish (prompt-alias-moved contract, size). */
  private assertPublishable(move: Omit<UnpublishedAliasMove, 'id' | 'movedAt'> & { movedAt: Date }): void {
    const max = this.config.REGISTRY_MAX_EVENT_BYTES;
    try {
      publishableMessage({ ...move, id: '', movedAt: move.movedAt.toISOString() }, aliasMoveMessage, max);
    } catch (err) {
      if (err instanceof EventNotPublishableError) {
        throw notPublishableError(err, EVENT_TYPES.promptAliasMoved, max);
      }
      throw err;
    }
  }
}
