import { decodeCursor, encodeCursor } from '@llmops/platform';
import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { DatasetRepository } from '../persistence/dataset.repository';
import { SnapshotRepository } from '../persistence/snapshot.repository';
import { type SnapshotResponse, toSnapshotResponse } from './dto/dataset.response';
import { DatasetNotFoundError, SnapshotNotFoundError } from './datasets.errors';

/** A dataset's snapshots, in the caller's project. */
@Injectable()
export class ReadSnapshotsUseCase {
  constructor(
    private readonly datasets: DatasetRepository,
    private readonly snapshots: SnapshotRepository,
  ) {}

  /** In sequence order, one page at a time (`nextCursor` null on the last page). */
  async list(
    project: string,
    name: string,
    limit: number,
    cursor?: string,
  ): Promise<{ items: SnapshotResponse[]; nextCursor: string | null }> {
    const after = decodeCursor(cursor, z.int().min(0));
    if (!(await this.datasets.get(project, name))) throw new DatasetNotFoundError(name);
    const docs = await this.snapshots.page(project, name, limit, after);
    return {
      items: docs.map(toSnapshotResponse),
      nextCursor: docs.length === limit ? encodeCursor(docs[docs.length - 1].sequence) : null,
    };
  }

  /** The snapshot `ref` names: its 64-hex id, its sequence number or `latest`. */
  async get(project: string, name: string, ref: string): Promise<SnapshotResponse> {
    if (!(await this.datasets.get(project, name))) throw new DatasetNotFoundError(name);
    const snapshot = await this.snapshots.resolve(project, name, ref);
    if (!snapshot) throw new SnapshotNotFoundError(name, ref);
    return toSnapshotResponse(snapshot);
  }
}
