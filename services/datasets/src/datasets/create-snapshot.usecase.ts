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

/** Records written per insert while a snapshot streams. */
const RECORD_CHUNK = 500;
/** Attempts at a sequence number when concurrent builds of one dataset take the same one. */
const SEQUENCE_ATTEMPTS = 10;

export interface SnapshotResult {
  snapshot: SnapshotDoc;
  /** False when the records equal an existing snapshot's (that snapshot is the answer). */
  created: boolean;
}

/**
 * Takes a snapshot of a dataset: streams the matching examples, writes the records in chunks under
 * a fresh build id while hashing their canonical JSON, then either finds a snapshot with that
 * content id (the records are dropped, the existing snapshot is the answer) or stores a new one
 * with the next sequence number and announces it.
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
    const dataset = await this.datasets.get(project, name);
    if (!dataset) throw new DatasetNotFoundError(name);
    const definition = { name, ...dataset.definition } as DatasetDefinition;
    const { description: _description, ...snapshotDefinition } = dataset.definition;

    const build = uuidv7();
    let written: Awaited<ReturnType<CreateSnapshotUseCase['write']>>;
    try {
      written = await this.write(project, definition, build);
    } catch (err) {
      await this.snapshots.deleteRecords(build);
      throw err;
    }

    const existing = await this.snapshots.resolve(project, name, written.id);
    if (existing) return this.reuse(existing, build, ctx);
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
        const now = await this.datasets.get(project, name);
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
      const raced = await this.snapshots.resolve(project, name, written.id);
      if (raced) return this.reuse(raced, build, ctx);
      if (attempt >= SEQUENCE_ATTEMPTS) {
        await this.snapshots.deleteRecords(build);
        throw new Error(`no free sequence number for dataset ${name} after ${attempt} attempts`);
      }
    }
  }

  /** The records equal `existing`'s: drop this build's copy; finish its announcement if it is pending. */
  private async reuse(existing: SnapshotDoc, build: string, ctx: RequestContext): Promise<SnapshotResult> {
    await this.snapshots.deleteRecords(build);
    if (!existing.published) {
      await this.publisher.publish(existing, ctx);
      return { snapshot: { ...existing, published: true }, created: false };
    }
    return { snapshot: existing, created: false };
  }

  /** Streams the records into `snapshot_records` under `build`; their content id, count and splits. */
  private async write(project: string, definition: DatasetDefinition, build: string) {
    const prompt = definition.filter?.prompt;
    let aliasHash: string | undefined;
    if (prompt?.alias !== undefined && prompt.name !== undefined) {
      aliasHash = (await this.aliases.resolve(project, prompt.name, prompt.alias)) ?? undefined;
      if (aliasHash === undefined) throw new PromptAliasNotFoundError(prompt.name, prompt.alias);
    }
    const cursor = this.examples.stream(exampleQuery(project, definition.filter, { aliasHash }));
    const hash = createHash('sha256').update('[');
    const splits: Record<string, number> = {};
    let chunk: SnapshotRecordDoc[] = [];
    let i = 0;
    // One chunk is written while the next is read and built (at most one write in flight).
    let writing: Promise<void> = Promise.resolve();
    const flush = async () => {
      await writing;
      writing = this.snapshots.insertRecords(chunk);
      writing.catch(() => undefined); // awaited before the next flush and at the end
      chunk = [];
    };
    try {
      for await (const record of buildRecords(cursor, definition, { redact: redactText })) {
        const json = canonicalize(record);
        hash.update(i === 0 ? json : `,${json}`);
        splits[record.split] = (splits[record.split] ?? 0) + 1;
        chunk.push({ _id: `${build}:${i}`, build, i, split: record.split, json });
        i++;
        if (chunk.length >= RECORD_CHUNK) await flush();
      }
      await flush();
      await writing;
    } finally {
      await writing.catch(() => undefined);
      await cursor.close();
    }
    return { id: hash.update(']').digest('hex'), records: i, splits };
  }
}
