/**
 * In-memory read cache, keyed by project: two projects' prompts of the same name never share an entry.
 * - Versions are immutable, so an entry (with its pre-serialized GET body) is valid forever; the
 *   map is capped (oldest inserted evicted first) only to bound memory.
 * - Version numbers never change their hash: cached forever too.
 * - Alias targets (including the virtual `latest`) change. Entries are dropped by alias-moved /
 *   version-registered events (see CacheInvalidationConsumer), updated directly by this instance's
 *   own writes, and also expire after a TTL so a broker outage cannot keep them stale for long.
 *   A per-key generation counter stops a read that started before an invalidation from storing
 *   the value it read after the invalidation ran.
 */
import type { PromptVersion } from '../domain/prompt-version';

export interface CachedVersion {
  readonly version: PromptVersion;
  /** JSON body of GET .../versions/{ref}. */
  readonly json: string;
}

interface AliasEntry {
  hash: string;
  expiresAt: number;
}

export interface RegistryCacheOptions {
  maxVersions: number;
  aliasTtlMs: number;
  /** The JSON body of GET .../versions/{ref} for a version. */
  serialize: (version: PromptVersion) => string;
  now?: () => number;
}

const key = (project: string, name: string, part: string): string => `${project}\n${name}\n${part}`;

export class RegistryCache {
  private readonly versions = new Map<string, CachedVersion>();
  private readonly numbers = new Map<string, string>();
  private readonly aliases = new Map<string, AliasEntry>();
  private readonly generations = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly options: RegistryCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  getVersion(project: string, name: string, hash: string): CachedVersion | undefined {
    return this.versions.get(key(project, name, hash));
  }

  getHashByNumber(project: string, name: string, version: number): string | undefined {
    return this.numbers.get(key(project, name, `#${version}`));
  }

  putVersion(v: PromptVersion): CachedVersion {
    const entry: CachedVersion = { version: v, json: this.options.serialize(v) };
    if (this.options.maxVersions <= 0) return entry;
    const k = key(v.project, v.name, v.hash);
    if (!this.versions.has(k)) {
      while (this.versions.size >= this.options.maxVersions) {
        const [oldest, evicted] = this.versions.entries().next().value as [string, CachedVersion];
        this.versions.delete(oldest);
        const e = evicted.version;
        this.numbers.delete(key(e.project, e.name, `#${e.version}`));
      }
    }
    this.versions.set(k, entry);
    this.numbers.set(key(v.project, v.name, `#${v.version}`), v.hash);
    return entry;
  }

  getAlias(project: string, name: string, alias: string): string | undefined {
    const k = key(project, name, alias);
    const entry = this.aliases.get(k);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.aliases.delete(k);
      return undefined;
    }
    return entry.hash;
  }

  /** Take before reading an alias from the database; pass to `putAlias` afterwards. */
  aliasToken(project: string, name: string, alias: string): number {
    return this.generations.get(key(project, name, alias)) ?? 0;
  }

  /** Stores a value read from the database unless the alias was invalidated since `token`. */
  putAlias(project: string, name: string, alias: string, hash: string, token: number): void {
    const k = key(project, name, alias);
    if ((this.generations.get(k) ?? 0) !== token || this.options.aliasTtlMs <= 0) return;
    this.aliases.set(k, { hash, expiresAt: this.now() + this.options.aliasTtlMs });
  }

  /** A value this instance just wrote: replaces anything cached and outdates reads in flight. */
  setAlias(project: string, name: string, alias: string, hash: string): void {
    const k = key(project, name, alias);
    this.bump(k);
    if (this.options.aliasTtlMs > 0)
      this.aliases.set(k, { hash, expiresAt: this.now() + this.options.aliasTtlMs });
  }

  invalidateAlias(project: string, name: string, alias: string): void {
    const k = key(project, name, alias);
    this.bump(k);
    this.aliases.delete(k);
  }

  private bump(k: string): void {
    this.generations.set(k, (this.generations.get(k) ?? 0) + 1);
  }
}
