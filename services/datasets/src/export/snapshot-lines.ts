/**
 * One split of a snapshot as a stream of JSONL bytes, read from a cursor over `snapshot_records`
 * in record order. Memory stays bounded whatever the snapshot's size: the cursor fetches one batch
 * at a time, and the next is only asked for when the reader has taken the lines already made (the
 * stream is pulled: a slow client slows the cursor down instead of filling a buffer). Destroying
 * the stream (the client went away) closes the cursor on the server.
 */
import { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { ExportFormat } from '@llmops/contracts';
import type { Model } from 'mongoose';
import { DatasetsMetrics } from '../metrics/datasets-metrics';
import { SNAPSHOT_RECORD, type SnapshotRecordDoc } from '../persistence/datasets.schemas';
import { lineWriter } from './formats';

/** Records fetched per round trip. */
export const EXPORT_BATCH_SIZE = 500;
/** Lines are sent in chunks of about this many bytes (one socket write each). */
const CHUNK_CHARS = 64 * 1024;

@Injectable()
export class SnapshotLines {
  constructor(
    @InjectModel(SNAPSHOT_RECORD) private readonly records: Model<SnapshotRecordDoc>,
    private readonly metrics: DatasetsMetrics,
  ) {}

  /**
   * The records of `split` of the snapshot stored under `build`, in order, one line each in
   * `format`. The cursor opens at the first read and has no operation deadline (a download lasts
   * as long as the client reads); it closes at the end, on an error, or when the stream is destroyed.
   */
  open(build: string, split: string, format: ExportFormat): Readable {
    // The collection without a request deadline: a download is as long as the snapshot.
    const collection = this.records.collection;
    const toLine = lineWriter(format);
    const bytes = this.metrics.exportBytes.labels(format);
    const inProgress = this.metrics.exportsInProgress;

    async function* chunks(): AsyncGenerator<Buffer> {
      const cursor = collection.find<Pick<SnapshotRecordDoc, 'record'>>(
        { build, split },
        { sort: { i: 1 }, projection: { _id: 0, record: 1 }, batchSize: EXPORT_BATCH_SIZE },
      );
      try {
        let text = '';
        for await (const { record } of cursor) {
          text += toLine(record);
          if (text.length >= CHUNK_CHARS) {
            const chunk = Buffer.from(text);
            text = '';
            bytes.inc(chunk.length);
            yield chunk;
          }
        }
        if (text) {
          const chunk = Buffer.from(text);
          bytes.inc(chunk.length);
          yield chunk;
        }
      } finally {
        await cursor.close();
      }
    }

    inProgress.inc();
    const stream = Readable.from(chunks(), { objectMode: false });
    stream.once('close', () => inProgress.dec());
    return stream;
  }
}
