import {
  AuditTrail,
  decodeCursor,
  encodeCursor,
  type Principal,
  type RequestContext,
} from '@llmops/platform';
import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { DatasetRepository, datasetDocId } from '../persistence/dataset.repository';
import type { DatasetDoc } from '../persistence/datasets.schemas';
import { SnapshotRepository } from '../persistence/snapshot.repository';
import { changeEventId } from './change-event-id';
import type { DatasetDefinition } from './dto/dataset-definition.request';
import { type DatasetResponse, toDatasetResponse } from './dto/dataset.response';
import { DatasetExistsError, DatasetNotFoundError } from './datasets.errors';

/** Dataset definitions of the caller's project: create, read, list, delete (with their snapshots). */
@Injectable()
export class ManageDatasetsUseCase {
  constructor(
    private readonly datasets: DatasetRepository,
    private readonly snapshots: SnapshotRepository,
    private readonly audit: AuditTrail,
  ) {}

  async create(
    principal: Principal,
    request: DatasetDefinition,
    ctx: RequestContext,
  ): Promise<DatasetResponse> {
    const { name, ...definition } = request;
    // Snapshots of a deleted dataset of this name that its deletion left behind are not inherited.
    if (!(await this.datasets.get(principal.project, name))) {
      await this.snapshots.deleteDataset(principal.project, name);
    }
    const doc = {
      _id: datasetDocId(principal.project, name),
      project: principal.project,
      name,
      definition,
      createdAt: new Date(),
      createdBy: principal.keyId,
    };
    if ((await this.datasets.create(doc)) === 'exists') {
      // The creation's audit event may have failed after the dataset was stored: send it again
      // (same event id, so the trail holds it once) before refusing.
      const existing = await this.datasets.get(principal.project, name);
      if (existing) await this.recordCreation(principal, existing, ctx);
      throw new DatasetExistsError(name);
    }
    await this.recordCreation(principal, doc, ctx);
    return toDatasetResponse(doc);
  }

  private recordCreation(principal: Principal, doc: DatasetDoc, ctx: RequestContext): Promise<void> {
    const createdAt = doc.createdAt.toISOString();
    return this.audit.record(
      { ...principal, keyId: doc.createdBy },
      { action: 'dataset.created', resource: doc.name, details: { format: String(doc.definition.format) } },
      ctx,
      { id: changeEventId('dataset.created', `${doc._id}@${createdAt}`), time: createdAt },
    );
  }

  async get(project: string, name: string): Promise<DatasetResponse> {
    const doc = await this.datasets.get(project, name);
    if (!doc) throw new DatasetNotFoundError(name);
    return toDatasetResponse(doc);
  }

  /** The project's datasets in name order, one page at a time (`nextCursor` null on the last page). */
  async list(
    project: string,
    limit: number,
    cursor?: string,
  ): Promise<{ items: DatasetResponse[]; nextCursor: string | null }> {
    const after = decodeCursor(cursor, z.string());
    const docs = await this.datasets.page(project, limit, after);
    return {
      items: docs.map(toDatasetResponse),
      nextCursor: docs.length === limit ? encodeCursor(docs[docs.length - 1].name) : null,
    };
  }

  /**
   * Deletes the definition first, then the snapshots and their records: a snapshot build finishing
   * in between finds its dataset gone and removes its own snapshot. Snapshots a failure half way
   * leaves behind are removed by the next creation of the name (`create`).
   */
  async delete(principal: Principal, name: string, ctx: RequestContext): Promise<void> {
    if (!(await this.datasets.delete(principal.project, name))) throw new DatasetNotFoundError(name);
    const snapshots = await this.snapshots.deleteDataset(principal.project, name);
    await this.audit.record(
      principal,
      { action: 'dataset.deleted', resource: name, details: { snapshots } },
      ctx,
    );
  }
}
