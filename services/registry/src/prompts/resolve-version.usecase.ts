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

  /** Throws InvalidNameError, AmbiguousRefError, PromptNotFoundError or VersionNotFoundError. */
  async resolve(name: string, ref: string): Promise<CachedVersion> {
    assertPromptName(name);
    for (const candidate of parseRef(ref)) {
      let found: CachedVersion | null = null;
      switch (candidate.kind) {
        case 'hash':
          found = await this.byHash(name, candidate.hash);
          break;
        case 'prefix':
          found = await this.byPrefix(name, candidate.prefix, ref);
          break;
        case 'number':
          found = await this.byNumber(name, candidate.version);
          break;
        case 'alias': {
          const hash = await this.aliasTarget(name, candidate.alias);
          found = hash ? await this.byHash(name, hash) : null;
          break;
        }
      }
      if (found) return found;
    }
    if ((await this.versions.latestNumber(name)) === 0) throw new PromptNotFoundError(name);
    throw new VersionNotFoundError(name, ref);
  }

  /** Hash an alias points at now (`latest` = the newest version), or null. */
  async aliasTarget(name: string, alias: string): Promise<string | null> {
    const cached = this.cache.getAlias(name, alias);
    if (cached !== undefined) {
      this.aliasHit.inc();
      return cached;
    }
    this.aliasMiss.inc();
    const token = this.cache.aliasToken(name, alias);
    let hash: string | null;
    if (alias === LATEST_ALIAS) {
      const latest = await this.versions.findLatest(name);
      if (latest) this.cache.putVersion(latest);
      hash = latest?.hash ?? null;
    } else {
      hash = (await this.moves.current(name, alias))?.to ?? null;
    }
    if (hash !== null) this.cache.putAlias(name, alias, hash, token);
    return hash;
  }

  private async byHash(name: string, hash: string): Promise<CachedVersion | null> {
    const cached = this.cache.getVersion(name, hash);
    if (cached) {
      this.versionHit.inc();
      return cached;
    }
    this.versionMiss.inc();
    const v = await this.versions.findByHash(name, hash);
    return v ? this.cache.putVersion(v) : null;
  }

  private async byNumber(name: string, version: number): Promise<CachedVersion | null> {
    const hash = this.cache.getHashByNumber(name, version);
    if (hash) return this.byHash(name, hash);
    this.versionMiss.inc();
    const v = await this.versions.findByNumber(name, version);
    return v ? this.cache.putVersion(v) : null;
  }

  /** Never cached: a later registration can make a unique prefix ambiguous. */
  private async byPrefix(name: string, prefix: string, ref: string): Promise<CachedVersion | null> {
    const matches = await this.versions.findByPrefix(name, prefix, MAX_PREFIX_CANDIDATES);
    if (matches.length === 0) return null;
    if (matches.length > 1) {
      throw new AmbiguousRefError(
        name,
        ref,
        matches.map((m) => ({ hash: m.hash, shortHash: m.shortHash, version: m.version })),
      );
    }
    return this.cache.getVersion(name, matches[0].hash) ?? this.cache.putVersion(matches[0]);
  }
}
