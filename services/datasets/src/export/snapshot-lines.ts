/**
 * One split of a snapshot as a stream of JSONL bytes, read from a cursor over `snapshot_records`
 * in record order. Memory stays bounded whatever the snapshot's size: the cursor fetches one batch
 * at a time, and the next is only asked for when the reader has taken the lines already made (the
 * stream is pulled: a slow client slows the cursor down instead of filling a buffer). Destroying
 * the stream (the client went away) closes the cursor on the server. The stream fails, so that the
 * client sees an aborted transfer instead of a complete-looking wrong file, when a record's `i` is
 * not above the previous one's (the server returned the split out of snapshot order), or when the
 * split ends before the snapshot's count for it (the snapshot was deleted while it streamed).
 */
import { Readable } from 'node:stream';
import { Injectable, Logger } from '@nestjs/common';
import type { ExportFormat } from '@llmops/contracts';
import { DatasetsMetrics } from '../metrics/datasets-metrics';
import type { SnapshotDoc } from '../persistence/datasets.schemas';
import { SnapshotRepository } from '../persistence/snapshot.repository';
import { lineWriter } from './formats';

/** Records fetched per round trip. */
export const EXPORT_BATCH_SIZE = 500;
/** Lines are sent in chunks of about this many bytes (one socket write each). */
const CHUNK_CHARS = 64 * 1024;

/** The records of a split ran out before the snapshot's count for it. */
export class ShortSplitError extends Error {
  constructor(build: string, split: string, sent: number, expected: number) {
    super(`split ${split} of build ${build} ended after ${sent} of ${expected} records (snapshot deleted?)`);
  }
}

/** A record came out of snapshot order: its `i` is not above the previous record's. */
export class RecordOrderError extends Error {
  constructor(build: string, split: string, previous: number, i: number) {
    super(`split ${split} of build ${build} came out of snapshot order: record ${i} after ${previous}`);
  }
}

/**
 * Checks, record by record, that `i` strictly increases: what makes a download the split in
 * snapshot order, whether the server sorted it or returned it in natural order. Throws
 * RecordOrderError at the first record that breaks it.
 */
export function snapshotOrderCheck(build: string, split: string): (i: number) => void {
  let previous = -1;
  return (i) => {
    if (!(i > previous)) throw new RecordOrderError(build, split, previous, i);
    previous = i;
  };
}

@Injectable()
export class SnapshotLines {
  private readonly logger = new Logger(SnapshotLines.name);

  constructor(
    private readonly snapshots: SnapshotRepository,
    private readonly metrics: DatasetsMetrics,
  ) {}

  /**
   * The records of `split` of the snapshot, in order, one line each in `format`. The cursor opens
   * at the first read and has no operation deadline (a download lasts as long as the client
   * reads); it closes at the end, on an error, or when the stream is destroyed. The stream fails
   * (the response is aborted, and the error logged) when a record comes out of snapshot order or
   * fewer records than `snapshot.splits[split]` are found.
   */
  open(snapshot: Pick<SnapshotDoc, 'build' | 'splits'>, split: string, format: ExportFormat): Readable {
    const { build } = snapshot;
    const expected = snapshot.splits?.[split] ?? 0;
    const snapshots = this.snapshots;
    const toLine = lineWriter(format);
    const bytes = this.metrics.exportBytes.labels(format);
    const inProgress = this.metrics.exportsInProgress;
    const logger = this.logger;

    async function* chunks(): AsyncGenerator<Buffer> {
      const cursor = snapshots.readRecords(build, split, EXPORT_BATCH_SIZE);
      const inOrder = snapshotOrderCheck(build, split);
      try {
        let text = '';
        let sent = 0;
        for await (const { i, json } of cursor) {
          inOrder(i);
          text += toLine(JSON.parse(json) as Record<string, unknown>);
          sent++;
          if (text.length >= CHUNK_CHARS) {
            const chunk = Buffer.from(text);
            text = '';
            bytes.inc(chunk.length);
            yield chunk;
          }
        }
        // The last lines are held back until the count is known to be complete.
        if (sent < expected) throw new ShortSplitError(build, split, sent, expected);
        if (text) {
          const chunk = Buffer.from(text);
          bytes.inc(chunk.length);
          yield chunk;
        }
      } catch (err) {
        logger.error(`download aborted: ${(err as Error).message}`);
        throw err;
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
