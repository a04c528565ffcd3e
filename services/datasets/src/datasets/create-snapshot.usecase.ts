import { createHash } from 'node:crypto';
import { canonicalize } from '@llmops/hashing';
import { type Principal, type RequestContext, redactText, uuidv7 } from '@llmops/platform';
import { Injectable } from '@nestjs/common';
import { buildRecords, exampleQuery } from '../domain/records';
import { DatasetsMetrics } from '../metrics/datasets-metrics';
import { AliasRepository } from '../persistence/alias.repository';
import { DatasetRepository, datasetDocId } from '../persistence/dataset.repository';
import type { SnapshotDoc, SnapshotRecordDoc } from '../persistence/datasets.schemas';
import { ExampleReader } from '../persistence/example-reader';
import { SnapshotRepository } from '../persistence/snapshot.repository';
import type { DatasetDefinition } from './dto/dataset-definition.request';
import { DatasetNotFoundError, PromptAliasNotFoundError } from './datasets.errors';
import { SnapshotPublisher } from './snapshot-publisher';

/** A chunk of records is written once it holds this many records... */
export const RECORD_CHUNK = 500;
/** ...or this many bytes of record JSON, whichever comes first. */
export const RECORD_CHUNK_BYTES = 4 * 1024 * 1024;
/** Attempts at a sequence number when concurrent builds of one dataset take the same one. */
const SEQUENCE_ATTEMPTS = 10;

export interface SnapshotResult {
  snapshot: SnapshotDoc;
  /** False when the records equal an existing snapshot's (that snapshot is the answer). */
  created: boolean;
}

interface Pass {
  id: string;
  records: number;
  splits: Record<string, number>;
}

/**
 * Takes a snapshot of a dataset. A first pass only computes the content id of the records the
 * dataset matches now; when the dataset already has a snapshot with that id, it is the answer and
 * nothing is written. Otherwise a second pass writes the records in chunks under a fresh build id
 * while hashing them again (examples may have changed in between: that pass's id is the snapshot's),
 * and the snapshot is stored with the next sequence number and announced. Every database operation
 * of a build runs without the request deadline.
 */
@Injectable()
export class CreateSnapshotUseCase {
  constructor(
    private readonly datasets: DatasetRepository,
    private readonly snapshots: SnapshotRepository,
    private readonly examples: ExampleReader,
    private readonly aliases: AliasRepository,
    private readonly publisher: SnapshotPublisher,
    private readonly metrics: DatasetsMetrics,
  ) {}

  async execute(principal: Principal, name: string, ctx: RequestContext): Promise<SnapshotResult> {
    const { project } = principal;
    const dataset = await this.datasets.current(project, name);
    if (!dataset) throw new DatasetNotFoundError(name);
    const definition = { name, ...dataset.definition } as DatasetDefinition;
    const { description: _description, ...snapshotDefinition } = dataset.definition;
    const aliasHash = await this.aliasHash(project, definition);

    const hashed = await this.pass(project, definition, aliasHash);
    const unchanged = await this.snapshots.withContent(project, name, hashed.id);
    if (unchanged) return this.reuse(unchanged, ctx);

    const build = uuidv7();
    let written: Pass;
    try {
      written = await this.pass(project, definition, aliasHash, build);
    } catch (err) {
      await this.snapshots.deleteRecords(build);
      throw err;
    }

    const existing = await this.snapshots.withContent(project, name, written.id);
    if (existing) return this.reuse(existing, ctx, build);
    for (let attempt = 1; ; attempt++) {
      const sequence = (await this.snapshots.lastSequence(project, name)) + 1;
      const snapshot: SnapshotDoc = {
        _id: `${datasetDocId(project, name)}@${sequence}`,
        project,
        dataset: name,
        id: written.id,
        sequence,
        build,
        format: definition.format,
        records: written.records,
        splits: written.splits,
        definition: snapshotDefinition,
        createdAt: new Date(),
        createdBy: principal.keyId,
        published: false,
      };
      if ((await this.snapshots.insert(snapshot)) === 'created') {
        // Deleted (and maybe re-created) while this build ran: the snapshot must not outlive it.
        const now = await this.datasets.current(project, name);
        if (now?.createdAt.getTime() !== dataset.createdAt.getTime()) {
          await this.snapshots.remove(snapshot);
          throw new DatasetNotFoundError(name);
        }
        this.metrics.snapshots.inc({ format: snapshot.format });
        this.metrics.snapshotRecords.observe({ format: snapshot.format }, snapshot.records);
        await this.publisher.publish(snapshot, ctx);
        return { snapshot: { ...snapshot, published: true }, created: true };
      }
      // A concurrent build took the sequence number, or stored these very records first.
      const raced = await this.snapshots.withContent(project, name, written.id);
      if (raced) return this.reuse(raced, ctx, build);
      if (attempt >= SEQUENCE_ATTEMPTS) {
        await this.snapshots.deleteRecords(build);
        throw new Error(`no free sequence number for dataset ${name} after ${attempt} attempts`);
      }
    }
  }

  /**
   * The records equal `existing`'s: drop this build's copy, if any; finish the announcement of
   * `existing` if it is pending.
   */
  private async reuse(existing: SnapshotDoc, ctx: RequestContext, build?: string): Promise<SnapshotResult> {
    if (build !== undefined) await this.snapshots.deleteRecords(build);
    if (!existing.published) {
      await this.publisher.publish(existing, ctx);
      return { snapshot: { ...existing, published: true }, created: false };
    }
    return { snapshot: existing, created: false };
  }

  /** The prompt hash the filter's alias points at now (none without an alias). */
  private async aliasHash(project: string, definition: DatasetDefinition): Promise<string | undefined> {
    const prompt = definition.filter?.prompt;
    if (prompt?.alias === undefined || prompt.name === undefined) return undefined;
    const hash = await this.aliases.resolve(project, prompt.name, prompt.alias);
    if (hash === null) throw new PromptAliasNotFoundError(prompt.name, prompt.alias);
    return hash;
  }

  /**
   * Streams the dataset's records: their content id, count and splits. With `build`, the records
   * are also written into `snapshot_records` under it, a chunk at a time (RECORD_CHUNK records or
   * RECORD_CHUNK_BYTES of record JSON, whichever first), one chunk written while the next is built.
   */
  private async pass(
    project: string,
    definition: DatasetDefinition,
    aliasHash: string | undefined,
    build?: string,
  ): Promise<Pass> {
    const cursor = this.examples.stream(exampleQuery(project, definition.filter, { aliasHash }));
    const hash = createHash('sha256').update('[');
    const splits: Record<string, number> = {};
    let chunk: SnapshotRecordDoc[] = [];
    let chunkBytes = 0;
    let i = 0;
    // At most one write in flight.
    let writing: Promise<void> = Promise.resolve();
    const flush = async () => {
      await writing;
      writing = this.snapshots.insertRecords(chunk);
      writing.catch(() => undefined); // awaited before the next flush and at the end
      chunk = [];
      chunkBytes = 0;
    };
    try {
      for await (const record of buildRecords(cursor, definition, { redact: redactText })) {
        const json = canonicalize(record);
        hash.update(i === 0 ? json : `,${json}`);
        splits[record.split] = (splits[record.split] ?? 0) + 1;
        if (build !== undefined) {
          chunk.push({ _id: `${build}:${i}`, build, i, split: record.split, json });
          chunkBytes += Buffer.byteLength(json);
          if (chunk.length >= RECORD_CHUNK || chunkBytes >= RECORD_CHUNK_BYTES) await flush();
        }
        i++;
      }
      if (build !== undefined) await flush();
      await writing;
    } finally {
      await writing.catch(() => undefined);
      await cursor.close();
    }
    return { id: hash.update(']').digest('hex'), records: i, splits };
  }
}
