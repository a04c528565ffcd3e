/**
 * Prompt versions from the registry, kept in memory (stale-while-revalidate), and rendered locally
 * with the registry's own rendering code (@llmops/prompts), so a render needs no request once the
 * version is cached and equals the registry's render route.
 *
 * `served` says where a version came from:
 * - `fresh`: fetched from the registry by this call;
 * - `cache`: from memory, fetched less than `prompts.ttlMs` ago (or a full hash, which never changes);
 * - `stale`: from memory, older than the TTL (it is revalidated in the background; while the
 *   registry is unreachable the last known version keeps being served this way);
 * - `fallback`: the registry is unreachable and nothing is cached: the caller's fallback spec.
 */
import { promptHash, SHORT_HASH_LENGTH } from '@llmops/hashing';
import {
  type RenderableSpec,
  type RenderedPrompt,
  renderSpec,
  specVariables,
  type TemplateVariables,
} from '@llmops/prompts';
import type { Client } from 'openapi-fetch';
import { LlmopsError, LlmopsUnavailableError, LlmopsValidationError } from './errors';
import type { paths as RegistryPaths } from './generated/registry';
import type { Transport } from './transport';
import { requireObject, requireText } from './validate';

export type PromptVersion =
  RegistryPaths['/v1/prompts/{name}/versions/{ref}']['get']['responses'][200]['content']['application/json'];

export type Served = 'fresh' | 'cache' | 'stale' | 'fallback';

export interface GetPromptResult {
  version: PromptVersion;
  served: Served;
}

export interface RenderResult extends RenderedPrompt {
  name: string;
  hash: string;
  shortHash: string;
  version: number;
  served: Served;
}

export interface GetPromptOptions {
  /** Served when the registry is unreachable and nothing is cached (else `prompts.fallbacks[name]`). */
  fallback?: RenderableSpec;
}

interface CacheEntry {
  version: PromptVersion;
  fetchedAt: number;
  /** The background revalidation in progress. */
  refreshing?: Promise<void>;
}

const FULL_HASH = /^[0-9a-f]{64}$/;
const DEFAULT_REF = 'latest';

/** `client.prompts` */
export interface PromptsApi {
  get(name: string, ref?: string, options?: GetPromptOptions): Promise<GetPromptResult>;
  render(
    name: string,
    ref?: string,
    variables?: TemplateVariables,
    options?: GetPromptOptions,
  ): Promise<RenderResult>;
}

export class PromptsClient implements PromptsApi {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly loading = new Map<string, Promise<PromptVersion>>();

  constructor(
    private readonly http: Client<RegistryPaths>,
    private readonly transport: Transport,
    private readonly ttlMs: number,
    private readonly fallbacks: Readonly<Record<string, RenderableSpec>>,
    private readonly now: () => number = Date.now,
  ) {}

  /** A version by ref: full hash, unique hash prefix (7+ hex), version number or alias (default `latest`). */
  async get(
    name: string,
    ref: string = DEFAULT_REF,
    options: GetPromptOptions = {},
  ): Promise<GetPromptResult> {
    requireText('name', name, 128);
    requireText('ref', ref, 128);
    const key = `${name}\u0000${ref}`;
    const entry = this.cache.get(key);
    if (entry) {
      if (FULL_HASH.test(ref) || this.now() - entry.fetchedAt < this.ttlMs)
        return { version: entry.version, served: 'cache' };
      entry.refreshing ??= this.load(key, name, ref)
        .then(
          () => undefined,
          () => undefined, // the last known version stays; the next call after the TTL tries again
        )
        .finally(() => (entry.refreshing = undefined));
      return { version: entry.version, served: 'stale' };
    }
    try {
      return { version: await this.load(key, name, ref), served: 'fresh' };
    } catch (err) {
      const fallback = options.fallback ?? this.fallbacks[name];
      if (!(err instanceof LlmopsUnavailableError) || fallback === undefined) throw err;
      return { version: fallbackVersion(name, fallback), served: 'fallback' };
    }
  }

  /**
   * Renders locally what the registry's `POST /v1/prompts/{name}/render` returns. Throws
   * LlmopsValidationError `missing_variables` (details.missing names each) like the registry's 422.
   */
  async render(
    name: string,
    ref: string = DEFAULT_REF,
    variables: TemplateVariables = {},
    options: GetPromptOptions = {},
  ): Promise<RenderResult> {
    requireObject('variables', variables);
    const { version, served } = await this.get(name, ref, options);
    const { prompt, missing } = await renderSpec(version.spec as RenderableSpec, variables);
    if (missing.length > 0) {
      throw new LlmopsValidationError(
        'variables',
        `missing variables: ${missing.join(', ')}`,
        'missing_variables',
        { missing },
      );
    }
    return {
      name,
      hash: version.hash,
      shortHash: version.shortHash,
      version: version.version,
      ...prompt,
      served,
    };
  }

  /** One request per (name, ref) at a time; the answer replaces the cached version. */
  private load(key: string, name: string, ref: string): Promise<PromptVersion> {
    let pending = this.loading.get(key);
    if (!pending) {
      pending = this.fetchVersion(name, ref)
        .then((version) => {
          this.cache.set(key, { version, fetchedAt: this.now() });
          return version;
        })
        .finally(() => this.loading.delete(key));
      this.loading.set(key, pending);
    }
    return pending;
  }

  private async fetchVersion(name: string, ref: string): Promise<PromptVersion> {
    const { data } = await this.transport.send(`get prompt ${name}@${ref}`, (signal) =>
      this.http.GET('/v1/prompts/{name}/versions/{ref}', { params: { path: { name, ref } }, signal }),
    );
    if (data === undefined)
      throw new LlmopsError(`get prompt ${name}@${ref}: empty answer`, 'invalid_response');
    return data;
  }
}

/** A caller's spec as a version: its content hash computed here, `version` 0 (never registered). */
function fallbackVersion(name: string, spec: RenderableSpec): PromptVersion {
  const { hash } = promptHash(spec);
  return {
    name,
    hash,
    shortHash: hash.slice(0, SHORT_HASH_LENGTH),
    version: 0,
    createdAt: new Date(0).toISOString(),
    spec,
    variables: specVariables(spec),
  } as PromptVersion;
}
