import { Logger } from '@nestjs/common';
import { Registry } from 'prom-client';
import { DatasetsMetrics } from '../metrics/datasets-metrics';
import type { SnapshotRepository } from '../persistence/snapshot.repository';
import { openAiChatLine } from './formats';
import { RecordOrderError, SnapshotLines, snapshotOrderCheck } from './snapshot-lines';

const record = (i: number) => ({
  i,
  json: JSON.stringify({ id: `r-${i}`, input: `Q${i}?`, output: `A${i}.` }),
});

/** SnapshotLines over a cursor that hands out `rows` as given (as a server's natural order would). */
function linesOver(rows: Array<{ i: number; json: string }>) {
  const cursor = {
    closed: false,
    async *[Symbol.asyncIterator]() {
      yield* rows;
    },
    close() {
      cursor.closed = true;
      return Promise.resolve();
    },
  };
  const repository = { readRecords: () => cursor } as unknown as SnapshotRepository;
  const metrics = new DatasetsMetrics(new Registry());
  return { lines: new SnapshotLines(repository, metrics), cursor, metrics };
}

const read = async (stream: AsyncIterable<Buffer>): Promise<string> => {
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text;
};

describe('snapshot order check', () => {
  it('accepts strictly increasing record numbers, gaps included (other splits)', () => {
    const check = snapshotOrderCheck('b', 'train');
    for (const i of [0, 1, 4, 5, 900]) expect(() => check(i)).not.toThrow();
  });

  it('refuses a record number that repeats or goes back', () => {
    const repeat = snapshotOrderCheck('b', 'train');
    repeat(3);
    expect(() => repeat(3)).toThrow(RecordOrderError);
    const back = snapshotOrderCheck('b', 'train');
    back(0);
    back(7);
    expect(() => back(6)).toThrow('split train of build b came out of snapshot order: record 6 after 7');
  });

  it('streams records that arrive in snapshot order', async () => {
    const rows = [0, 2, 3, 10].map(record);
    const { lines, cursor } = linesOver(rows);
    const text = await read(lines.open({ build: 'b', splits: { train: 4 } }, 'train', 'openai-chat'));
    expect(text).toBe(rows.map((r) => openAiChatLine(JSON.parse(r.json) as never)).join(''));
    expect(cursor.closed).toBe(true);
  });

  it('fails the download at the first record out of order, logs it and closes the cursor', async () => {
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      const { lines, cursor, metrics } = linesOver([0, 1, 3, 2, 4].map(record));
      const stream = lines.open({ build: 'b', splits: { train: 5 } }, 'train', 'openai-chat');
      await expect(read(stream)).rejects.toThrow(RecordOrderError);
      expect(cursor.closed).toBe(true);
      expect(logged).toHaveBeenCalledWith(
        'download aborted: split train of build b came out of snapshot order: record 2 after 3',
      );
      // Nothing of the split went out: its lines were still held in the first chunk.
      expect((await metrics.exportBytes.get()).values.reduce((sum, v) => sum + v.value, 0)).toBe(0);
    } finally {
      logged.mockRestore();
    }
  });
});
