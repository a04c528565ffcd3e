import { Injectable } from '@nestjs/common';
import { renderSpec, type RenderedPrompt } from './domain/render-spec';
import type { RenderPromptRequest } from './dto/render-prompt.request';
import { MissingVariablesError } from './prompts.errors';
import { ResolveVersionUseCase } from './resolve-version.usecase';

export interface RenderPromptResponse extends RenderedPrompt {
  name: string;
  hash: string;
  shortHash: string;
  version: number;
}

@Injectable()
export class RenderPromptUseCase {
  constructor(private readonly resolver: ResolveVersionUseCase) {}

  async execute(name: string, request: RenderPromptRequest): Promise<RenderPromptResponse> {
    const { version } = await this.resolver.resolve(name, request.ref);
    const { prompt, missing } = renderSpec(version.spec, request.variables ?? {});
    if (missing.length > 0) throw new MissingVariablesError(missing);
    return { name, hash: version.hash, shortHash: version.shortHash, version: version.version, ...prompt };
  }
}
