import { decodeCursor, encodeCursor } from '@llmops/platform';
import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import type { ExperimentResponse } from './dto/experiment.response';
import { toResponse } from './experiment-writer';
import { ExperimentNotFoundError } from './experiments.errors';
import { ExperimentRepository } from './persistence/experiment.repository';

/**
 * Reads go to MongoDB (the source of truth, and it knows what is published), not to memory, and
 * see only the caller's project: another project's experiment is not found.
 */
@Injectable()
export class ReadExperimentsUseCase {
  constructor(private readonly repository: ExperimentRepository) {}

  /** The project's experiments in key order, one page at a time (`nextCursor` null on the last page). */
  async list(
    project: string,
    limit: number,
    cursor?: string,
  ): Promise<{ items: ExperimentResponse[]; nextCursor: string | null }> {
    const after = decodeCursor(cursor, z.string());
    const records = await this.repository.page(project, limit, after);
    const items = records.map(toResponse);
    const nextCursor = items.length === limit ? encodeCursor(items[items.length - 1].key) : null;
    return { items, nextCursor };
  }

  async get(project: string, key: string): Promise<ExperimentResponse> {
    const record = await this.repository.findByKey(project, key);
    if (!record) throw new ExperimentNotFoundError(key);
    return toResponse(record);
  }
}
