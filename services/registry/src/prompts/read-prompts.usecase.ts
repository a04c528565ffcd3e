import { Injectable } from '@nestjs/common';
import type { z } from 'zod';
import { decodeCursor, encodeCursor } from './cursor';
import type { promptListResponseSchema, versionListResponseSchema } from './dto/version.response';
import { PromptSummaryRepository } from '../persistence/prompt-summary.repository';
import { PromptVersionRepository } from '../persistence/prompt-version.repository';
import { PromptNotFoundError } from './prompts.errors';
import { assertPromptName } from './resolve-version.usecase';

@Injectable()
export class ReadPromptsUseCase {
  constructor(
    private readonly summaries: PromptSummaryRepository,
    private readonly versions: PromptVersionRepository,
  ) {}

  /** The project's names in ascending order with their newest version and aliases. */
  async listPrompts(
    project: string,
    limit: number,
    cursor?: string,
  ): Promise<z.infer<typeof promptListResponseSchema>> {
    const after = decodeCursor(cursor, 'string');
    const items = await this.summaries.list(project, limit, after);
    const nextCursor = items.length === limit ? encodeCursor(items[items.length - 1].name) : null;
    return { items, nextCursor };
  }

  /** Versions newest first (without their specs). */
  async listVersions(
    project: string,
    name: string,
    limit: number,
    cursor?: string,
  ): Promise<z.infer<typeof versionListResponseSchema>> {
    assertPromptName(name);
    const before = decodeCursor(cursor, 'number');
    const items = await this.versions.list(project, name, limit, before);
    if (items.length === 0 && before === undefined) throw new PromptNotFoundError(name);
    const last = items[items.length - 1];
    const nextCursor = items.length === limit && last.version > 1 ? encodeCursor(last.version) : null;
    // The documented fields only: the project is the caller's, and who registered it is in history.
    return {
      items: items.map((v) => ({
        name: v.name,
        hash: v.hash,
        shortHash: v.shortHash,
        version: v.version,
        createdAt: v.createdAt,
        ...(v.metadata ? { metadata: v.metadata } : {}),
      })),
      nextCursor,
    };
  }
}
