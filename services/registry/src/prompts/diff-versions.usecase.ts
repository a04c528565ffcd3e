import { SERVICE_CONFIG } from '@llmops/platform';
import { Inject, Injectable } from '@nestjs/common';
import type { RegistryConfig } from '../config/registry.config';
import {
  type DiffLimits,
  diffSpecs,
  type SpecDiff,
  TextTooDifferentToDiffError,
  TextTooLargeToDiffError,
} from '../domain/spec-diff';
import { DiffTooDifferentError, DiffTooLargeError } from './prompts.errors';
import { ResolveVersionUseCase } from './resolve-version.usecase';

interface VersionRef {
  hash: string;
  shortHash: string;
  version: number;
}

export interface DiffResponse extends SpecDiff {
  name: string;
  from: VersionRef;
  to: VersionRef;
}

@Injectable()
export class DiffVersionsUseCase {
  private readonly limits: DiffLimits;

  constructor(
    private readonly resolver: ResolveVersionUseCase,
    @Inject(SERVICE_CONFIG) config: RegistryConfig,
  ) {
    this.limits = {
      maxLines: config.REGISTRY_DIFF_MAX_LINES,
      maxChangedLines: config.REGISTRY_DIFF_MAX_CHANGED_LINES,
      timeoutMs: config.REGISTRY_DIFF_TIMEOUT_MS,
    };
  }

  async execute(project: string, name: string, fromRef: string, toRef: string): Promise<DiffResponse> {
    const [{ version: from }, { version: to }] = await Promise.all([
      this.resolver.resolve(project, name, fromRef),
      this.resolver.resolve(project, name, toRef),
    ]);
    let diff: SpecDiff;
    try {
      diff = await diffSpecs(
        from.spec,
        to.spec,
        {
          from: `${name}@${from.shortHash} (v${from.version})`,
          to: `${name}@${to.shortHash} (v${to.version})`,
        },
        this.limits,
      );
    } catch (err) {
      if (err instanceof TextTooLargeToDiffError)
        throw new DiffTooLargeError(err.field, err.lines, err.maxLines);
      if (err instanceof TextTooDifferentToDiffError)
        throw new DiffTooDifferentError(err.field, this.limits.maxChangedLines, this.limits.timeoutMs);
      throw err;
    }
    const ref = (v: typeof from): VersionRef => ({
      hash: v.hash,
      shortHash: v.shortHash,
      version: v.version,
    });
    return { name, from: ref(from), to: ref(to), ...diff };
  }
}
