import { SERVICE_CONFIG } from '@llmops/platform';
import { RenderBudgetExceededError, renderSpec, type RenderedPrompt } from '@llmops/prompts';
import { Inject, Injectable } from '@nestjs/common';
import type { RegistryConfig } from '../config/registry.config';
import type { RenderPromptRequest } from './dto/render-prompt.request';
import { MissingVariablesError, RenderedTooLargeError } from './prompts.errors';
import { ResolveVersionUseCase } from './resolve-version.usecase';

export interface RenderPromptResponse extends RenderedPrompt {
  name: string;
  hash: string;
  shortHash: string;
  version: number;
}

@Injectable()
export class RenderPromptUseCase {
  constructor(
    private readonly resolver: ResolveVersionUseCase,
    @Inject(SERVICE_CONFIG) private readonly config: RegistryConfig,
  ) {}

  async execute(project: string, name: string, request: RenderPromptRequest): Promise<RenderPromptResponse> {
    const { version } = await this.resolver.resolve(project, name, request.ref);
    const max = this.config.REGISTRY_MAX_RENDERED_BYTES;
    let rendered: Awaited<ReturnType<typeof renderSpec>>;
    try {
      rendered = await renderSpec(version.spec, request.variables ?? {}, max);
    } catch (err) {
      if (err instanceof RenderBudgetExceededError) throw new RenderedTooLargeError(max);
      throw err;
    }
    const { prompt, missing } = rendered;
    if (missing.length > 0) throw new MissingVariablesError(missing);
    return { name, hash: version.hash, shortHash: version.shortHash, version: version.version, ...prompt };
  }
}
