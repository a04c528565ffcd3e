/**
 * Resolves arm prompt refs (alias, version number or hash prefix) to full prompt hashes through
 * the registry's HTTP API. Only used when an experiment is written, never on the assignment path.
 *
 * The registry is called with the caller's own key (its `Authorization` header), so a ref resolves
 * among the prompts of the caller's project, which is the experiment's: the same prompt name in
 * another project is never seen. Resolving therefore needs `prompts:read` besides
 * `experiments:write`, checked here before any call.
 */
import {
  contextHeaders,
  ForbiddenError,
  isTimeoutError,
  SERVICE_CONFIG,
  withDeadline,
} from '@llmops/platform';
import { Inject, Injectable } from '@nestjs/common';
import type { AssignmentConfig } from '../config/assignment.config';
import type { ExperimentCaller } from './experiment-caller';
import { RegistryUnavailableError, UnknownPromptRefError, type UnresolvedArm } from './experiments.errors';

export interface PromptRefInput {
  arm: string;
  prompt: { name: string; ref: string };
}

const HASH_RE = /^[0-9a-f]{64}$/;

type Lookup =
  { ok: true; hash: string } | { ok: false; unknown: true } | { ok: false; unknown: false; detail: string };

@Injectable()
export class PromptResolver {
  constructor(@Inject(SERVICE_CONFIG) private readonly config: AssignmentConfig) {}

  /**
   * Full hash per arm, in input order, among the prompts of the caller's project. Throws
   * ForbiddenError (403) for a key without `prompts:read`, UnknownPromptRefError (422, naming every
   * unknown arm) or RegistryUnavailableError (503).
   */
  async resolve(arms: readonly PromptRefInput[], caller: ExperimentCaller): Promise<string[]> {
    if (!caller.principal.scopes.has('prompts:read')) {
      throw new ForbiddenError(
        "Arms name prompt refs, which are resolved in the registry with this API key: it needs the 'prompts:read' scope as well as 'experiments:write'.",
        { keyId: caller.principal.keyId, missingScope: 'prompts:read' },
      );
    }
    const lookups = await Promise.all(arms.map((a) => this.lookup(a.prompt.name, a.prompt.ref, caller)));
    const failure = lookups.find((l): l is Extract<Lookup, { unknown: false }> => !l.ok && !l.unknown);
    if (failure) throw new RegistryUnavailableError(failure.detail);
    const unresolved: UnresolvedArm[] = [];
    lookups.forEach((l, i) => {
      if (!l.ok) unresolved.push({ arm: arms[i].arm, prompt: arms[i].prompt.name, ref: arms[i].prompt.ref });
    });
    if (unresolved.length > 0) throw new UnknownPromptRefError(unresolved);
    return lookups.map((l) => (l as { hash: string }).hash);
  }

  private async lookup(name: string, ref: string, caller: ExperimentCaller): Promise<Lookup> {
    const url = `${this.config.REGISTRY_URL}/v1/prompts/${encodeURIComponent(name)}/versions/${encodeURIComponent(ref)}`;
    const headers = {
      accept: 'application/json',
      ...contextHeaders(caller.ctx),
      ...(caller.authorization === undefined ? {} : { authorization: caller.authorization }),
    };
    try {
      // The deadline covers the answer's body too.
      return await withDeadline(this.config.REGISTRY_TIMEOUT_MS, (signal) => this.ask(url, headers, signal));
    } catch (err) {
      const reason = isTimeoutError(err)
        ? `no answer within ${this.config.REGISTRY_TIMEOUT_MS} ms`
        : 'unreachable';
      return { ok: false, unknown: false, detail: `registry ${reason}` };
    }
  }

  /** One lookup's request and answer; throws only when the registry could not be reached. */
  private async ask(url: string, headers: Record<string, string>, signal: AbortSignal): Promise<Lookup> {
    const response = await fetch(url, { headers, signal });
    // 404: unknown prompt or version (in the caller's project). 400/422: a ref the registry cannot
    // parse, also "no such version". Anything else, 401/403 included (a key the registry does not
    // know yet), is the registry's failure to answer: 503.
    if (response.status === 404 || response.status === 400 || response.status === 422) {
      await response.body?.cancel();
      return { ok: false, unknown: true };
    }
    if (!response.ok) {
      await response.body?.cancel();
      return { ok: false, unknown: false, detail: `registry answered HTTP ${response.status}` };
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch (err) {
      if (isTimeoutError(err) || signal.aborted) throw err;
      return { ok: false, unknown: false, detail: 'registry answered malformed JSON' };
    }
    const hash = (body as { hash?: unknown } | null)?.hash;
    if (typeof hash !== 'string' || !HASH_RE.test(hash)) {
      return { ok: false, unknown: false, detail: 'registry answered without a 64-hex hash' };
    }
    return { ok: true, hash };
  }
}
