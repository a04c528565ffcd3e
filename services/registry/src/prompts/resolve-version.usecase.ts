import { Inject, Injectable } from '@nestjs/common';
import type { Counter } from 'prom-client';
import { type CachedVersion, RegistryCache } from '../cache/registry-cache';
import { LATEST_ALIAS, parseRef } from '../domain/ref';
import { NAME_PATTERN } from '../domain/prompt-spec';
import { AliasMoveRepository } from '../persistence/alias-move.repository';
import { PromptVersionRepository } from '../persistence/prompt-version.repository';
import {
  AmbiguousRefError,
  InvalidNameError,
  PromptNotFoundError,
  VersionNotFoundError,
} from './prompts.errors';
import { REGISTRY_METRICS, type RegistryMetrics } from '../metrics/registry.metrics';

/** Candidates listed in an ambiguous-prefix error (and the most fetched for a prefix). */
const MAX_PREFIX_CANDIDATES = 20;

export function assertPromptName(name: string): void {
  if (!NAME_PATTERN.test(name)) throw new InvalidNameError(name);
}

/** Resolves refs (full hash, unique hash prefix, version number, alias) to versions, cache first. */
@Injectable()
export class ResolveVersionUseCase {
  private readonly versionHit: Counter.Internal;
  private readonly versionMiss: Counter.Internal;
  private readonly aliasHit: Counter.Internal;
  private readonly aliasMiss: Counter.Internal;

  constructor(
    private readonly versions: PromptVersionRepository,
    private readonly moves: AliasMoveRepository,
    private readonly cache: RegistryCache,
    @Inject(REGISTRY_METRICS) metrics: RegistryMetrics,
  ) {
    // Pre-bound children: label lookup per call would cost more than the cache hit itself.
    this.versionHit = metrics.cacheLookups.labels('version', 'hit');
    this.versionMiss = metrics.cacheLookups.labels('version', 'miss');
    this.aliasHit = metrics.cacheLookups.labels('alias', 'hit');
    this.aliasMiss = metrics.cacheLookups.labels('alias', 'miss');
  }

  /**
   * `ref` of prompt `name` in `project`. Throws InvalidNameError, AmbiguousRefError,
   * PromptNotFoundError or VersionNotFoundError (a prompt of another project is not found).
   */
  async resolve(project: string, name: string, ref: string): Promise<CachedVersion> {
    assertPromptName(name);
    for (const candidate of parseRef(ref)) {
      let found: CachedVersion | null = null;
      switch (candidate.kind) {
        case 'hash':
          found = await this.byHash(project, name, candidate.hash);
          break;
        case 'prefix':
          found = await this.byPrefix(project, name, candidate.prefix, ref);
          break;
        case 'number':
          found = await this.byNumber(project, name, candidate.version);
          break;
        case 'alias': {
          const hash = await this.aliasTarget(project, name, candidate.alias);
          found = hash ? await this.byHash(project, name, hash) : null;
          break;
        }
      }
      if (found) return found;
    }
    if ((await this.versions.latestNumber(project, name)) === 0) throw new PromptNotFoundError(name);
    throw new VersionNotFoundError(name, ref);
  }

  /** Hash an alias points at now (`latest` = the newest version), or null. */
  async aliasTarget(project: string, name: string, alias: string): Promise<string | null> {
    const cached = this.cache.getAlias(project, name, alias);
    if (cached !== undefined) {
      this.aliasHit.inc();
      return cached;
    }
    this.aliasMiss.inc();
    const token = this.cache.aliasToken(project, name, alias);
    let hash: string | null;
    if (alias === LATEST_ALIAS) {
      const latest = await this.versions.findLatest(project, name);
      if (latest) this.cache.putVersion(latest);
      hash = latest?.hash ?? null;
    } else {
      hash = (await this.moves.current(project, name, alias))?.to ?? null;
    }
    if (hash !== null) this.cache.putAlias(project, name, alias, hash, token);
    return hash;
  }

  private async byHash(project: string, name: string, hash: string): Promise<CachedVersion | null> {
    const cached = this.cache.getVersion(project, name, hash);
    if (cached) {
      this.versionHit.inc();
      return cached;
    }
    this.versionMiss.inc();
    const v = await this.versions.findByHash(project, name, hash);
    return v ? this.cache.putVersion(v) : null;
  }

  private async byNumber(project: string, name: string, version: number): Promise<CachedVersion | null> {
    const hash = this.cache.getHashByNumber(project, name, version);
    if (hash) return this.byHash(project, name, hash);
    this.versionMiss.inc();
    const v = await this.versions.findByNumber(project, name, version);
    return v ? this.cache.putVersion(v) : null;
  }

  /** Never cached: a later registration can make a unique prefix ambiguous. */
  private async byPrefix(
    project: string,
    name: string,
    prefix: string,
    ref: string,
  ): Promise<CachedVersion | null> {
    const matches = await this.versions.findByPrefix(project, name, prefix, MAX_PREFIX_CANDIDATES);
    if (matches.length === 0) return null;
    if (matches.length > 1) {
      throw new AmbiguousRefError(
        name,
        ref,
        matches.map((m) => ({ hash: m.hash, shortHash: m.shortHash, version: m.version })),
      );
    }
    return this.cache.getVersion(project, name, matches[0].hash) ?? this.cache.putVersion(matches[0]);
  }
}
