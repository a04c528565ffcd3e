import { EVENT_TYPES } from '@llmops/contracts';
import { CanonicalizationError, promptHash } from '@llmops/hashing';
import {
  contextFields,
  LOGGER,
  type Principal,
  type RequestContext,
  SERVICE_CONFIG,
  ValidationFailedError,
} from '@llmops/platform';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { RegistryCache } from '../cache/registry-cache';
import type { RegistryConfig } from '../config/registry.config';
import { EventNotPublishableError, publishableMessage, versionMessage } from '../outbox/outbox-events';
import { OutboxPublisher } from '../outbox/outbox.publisher';
import { LATEST_ALIAS } from '../domain/ref';
import type { RegisterVersionRequest } from './dto/register-version.request';
import type { RegisterVersionResponse } from './dto/version.response';
import { PromptSummaryRepository } from '../persistence/prompt-summary.repository';
import { PromptVersionRepository } from '../persistence/prompt-version.repository';
import { type PromptVersion, shortHashOf } from '../domain/prompt-version';
import { notPublishableError, SpecTooLargeError, WriteContentionError } from './prompts.errors';
import { REGISTRY_METRICS, type RegistryMetrics } from '../metrics/registry.metrics';
import { assertPromptName } from './resolve-version.usecase';

const MAX_ATTEMPTS = 50;

function hashSpec(spec: RegisterVersionRequest['spec']): ReturnType<typeof promptHash> {
  try {
    return promptHash(spec);
  } catch (err) {
    // JSON can carry what RFC 8785 refuses, e.g. a lone surrogate escape ("\ud800").
    if (err instanceof CanonicalizationError) {
      throw new ValidationFailedError([{ path: err.path, message: err.message }]);
    }
    throw err;
  }
}

/**
 * Registers a spec under a name, idempotently.
 *
 * The version number is allocated without transactions or counters: the new document is inserted
 * with `version = newest + 1`, and the unique indexes on (name, hash) and (name, version) decide
 * races. On a duplicate-key error the spec is looked up again: if someone else registered the same
 * spec it is returned (200); otherwise another spec took the number, so we retry with the next one.
 * Only inserted documents hold numbers, so numbers are consecutive (1, 2, 3 ...) and never skipped.
 * The insert also writes the outbox record (the document's `published: false`) of the
 * version-registered event and of its audit record (actor = the caller's key id), atomically.
 * Names, numbers and hashes are per project: the caller's.
 */
@Injectable()
export class RegisterVersionUseCase {
  constructor(
    private readonly versions: PromptVersionRepository,
    private readonly summaries: PromptSummaryRepository,
    private readonly cache: RegistryCache,
    private readonly outbox: OutboxPublisher,
    @Inject(SERVICE_CONFIG) private readonly config: RegistryConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(REGISTRY_METRICS) private readonly metrics: RegistryMetrics,
  ) {}

  /** The version document keeps `ctx` (the request's ids); its outbox event carries them. */
  async execute(
    principal: Principal,
    name: string,
    request: RegisterVersionRequest,
    ctx: RequestContext,
  ): Promise<RegisterVersionResponse> {
    assertPromptName(name);
    const { project, keyId: actor } = principal;
    const { hash, canonical } = hashSpec(request.spec);
    const bytes = Buffer.byteLength(canonical, 'utf8');
    if (bytes > this.config.REGISTRY_MAX_SPEC_BYTES)
      throw new SpecTooLargeError(bytes, this.config.REGISTRY_MAX_SPEC_BYTES);

    const known =
      this.cache.getVersion(project, name, hash)?.version ??
      (await this.versions.findByHash(project, name, hash));
    if (known) return this.existing(known);
    this.assertPublishable(project, name, hash, canonical, request.metadata);

    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const version = (await this.versions.latestNumber(project, name)) + 1;
      const createdAt = new Date();
      const outcome = await this.versions.insert({
        project,
        name,
        hash,
        version,
        specCanonical: canonical,
        ...(request.metadata ? { metadata: request.metadata } : {}),
        createdAt,
        actor,
        correlationId: ctx.correlationId,
        traceparent: ctx.traceparent,
      });
      if (outcome === 'inserted') {
        const created = this.cache.putVersion({
          project,
          name,
          hash,
          shortHash: hash.slice(0, 12),
          version,
          spec: request.spec,
          ...(request.metadata ? { metadata: request.metadata } : {}),
          createdAt: createdAt.toISOString(),
          actor,
        }).version;
        this.cache.invalidateAlias(project, name, LATEST_ALIAS);
        this.outbox.kick();
        // Best effort: the outbox publisher re-applies it before the event is marked published.
        await this.summaries
          .applyVersion(created)
          .catch((err: unknown) =>
            this.logger.warn(
              { ...contextFields(ctx), err, project, name },
              'prompt summary update failed; the outbox publisher will repair it',
            ),
          );
        this.metrics.registrations.inc({ outcome: 'created' });
        return { ...this.view(created), created: true };
      }
      const winner = await this.versions.findByHash(project, name, hash);
      if (winner) return this.existing(winner);
      // Another spec took this number: retry with the next one, jittered so racers spread out.
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(2 + attempt * 2, 20)));
    }
    throw new WriteContentionError(`prompt "${name}"`);
  }

  /**
   * Nothing is acknowledged that the outbox could not publish: the event this version will be
   * published as must pass the prompt-version-registered contract and fit in a Kafka record.
   */
  private assertPublishable(
    project: string,
    name: string,
    hash: string,
    canonical: string,
    metadata: RegisterVersionRequest['metadata'],
  ): void {
    const max = this.config.REGISTRY_MAX_EVENT_BYTES;
    try {
      // Built the way the outbox publisher builds it, from the stored canonical JSON; the version
      // number is not known yet, so the widest one is assumed.
      publishableMessage(
        canonical,
        (c) =>
          versionMessage({
            id: '',
            project,
            name,
            hash,
            shortHash: shortHashOf(hash),
            version: Number.MAX_SAFE_INTEGER,
            spec: JSON.parse(c) as PromptVersion['spec'],
            ...(metadata ? { metadata } : {}),
            createdAt: new Date().toISOString(),
          }),
        max,
      );
    } catch (err) {
      if (err instanceof EventNotPublishableError) {
        throw notPublishableError(err, EVENT_TYPES.promptVersionRegistered, max);
      }
      throw err;
    }
  }

  private existing(v: PromptVersion): RegisterVersionResponse {
    this.metrics.registrations.inc({ outcome: 'existing' });
    return { ...this.view(v), created: false };
  }

  private view(v: PromptVersion): Omit<RegisterVersionResponse, 'created'> {
    return { name: v.name, hash: v.hash, shortHash: v.shortHash, version: v.version, createdAt: v.createdAt };
  }
}
