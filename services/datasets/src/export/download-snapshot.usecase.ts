import type { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import type { DatasetFormat, ExportFormat } from '@llmops/contracts';
import { DatasetRepository } from '../persistence/dataset.repository';
import type { SnapshotDoc } from '../persistence/datasets.schemas';
import { SnapshotRepository } from '../persistence/snapshot.repository';
import type { DownloadQuery } from './dto/download.request';
import { DatasetNotFoundError, SnapshotNotFoundError } from '../datasets/datasets.errors';
import { FormatMismatchError, UnknownSplitError } from './export.errors';
import { FORMATS_OF } from './formats';
import { SnapshotLines } from './snapshot-lines';

export interface SnapshotDownload {
  snapshot: SnapshotDoc;
  format: ExportFormat;
  split: string;
  /** `<dataset>-<sequence>-<split>.<format>.jsonl` */
  filename: string;
  /** The split's lines; pulled by the response, so nothing is read before the client asks. */
  body: Readable;
}

/** Resolves a snapshot of the caller's project and opens one split of it in a download format. */
@Injectable()
export class DownloadSnapshotUseCase {
  constructor(
    private readonly datasets: DatasetRepository,
    private readonly snapshots: SnapshotRepository,
    private readonly lines: SnapshotLines,
  ) {}

  async execute(project: string, name: string, ref: string, query: DownloadQuery): Promise<SnapshotDownload> {
    if (!(await this.datasets.get(project, name))) throw new DatasetNotFoundError(name);
    const snapshot = await this.snapshots.resolve(project, name, ref);
    if (!snapshot) throw new SnapshotNotFoundError(name, ref);

    const offered = FORMATS_OF[snapshot.format as DatasetFormat];
    const format = query.format ?? offered[0];
    if (!offered.includes(format))
      throw new FormatMismatchError(format, snapshot.format as DatasetFormat, offered);

    const splits = splitNames(snapshot);
    if (!splits.includes(query.split)) throw new UnknownSplitError(query.split, splits);

    return {
      snapshot,
      format,
      split: query.split,
      filename: `${name}-${snapshot.sequence}-${query.split}.${format}.jsonl`,
      body: this.lines.open(snapshot, query.split, format),
    };
  }
}

/** `train` and the splits of the definition the snapshot was built with (empty ones included). */
function splitNames(snapshot: SnapshotDoc): string[] {
  const defined = (snapshot.definition?.split ?? {}) as Record<string, unknown>;
  return [...new Set(['train', ...Object.keys(defined), ...Object.keys(snapshot.splits ?? {})])].sort();
}
