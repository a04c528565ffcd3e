/**
 * GroupedInserts' attribution of a failed command, on a stand-in collection that answers as the
 * driver does (the real server's error shapes are checked in grouped-inserts.int-spec.ts).
 */
import type { mongo } from 'mongoose';
import { classifyFailure } from '../src/kafka/consumer-failures';
import { isDuplicateKey } from '../src/mongo/duplicate-key';
import { GroupedInsertError, GroupedInserts } from '../src/mongo/grouped-inserts';

interface Doc {
  _id: string;
}

type Answer = (docs: Doc[]) => Promise<unknown>;

/** A collection whose insertMany answers with `answer`, recording what each command carried. */
function standIn(answer: Answer): { sent: string[][]; grouped: GroupedInserts<Doc> } {
  const sent: string[][] = [];
  const collection = {
    collectionName: 'things',
    insertMany: (docs: Doc[]) => {
      sent.push(docs.map((d) => d._id));
      return answer(docs);
    },
  } as unknown as mongo.Collection<Doc>;
  return { sent, grouped: new GroupedInserts(() => collection) };
}

/** A MongoBulkWriteError's shape: its write errors, what was inserted, and any write concern error. */
function bulkError(
  writeErrors: Array<{ index: number; code: number }>,
  insertedCount: number,
  writeConcernError?: unknown,
): Error {
  return Object.assign(new Error('bulk'), {
    name: 'MongoBulkWriteError',
    code: writeErrors[0]?.code,
    writeErrors: writeErrors.map((w) => ({ ...w, errmsg: `E${w.code}` })),
    insertedCount,
    result: { getWriteConcernError: () => writeConcernError },
  });
}

const ids = (prefix: string, n: number): Doc[] =>
  Array.from({ length: n }, (_, i) => ({ _id: `${prefix}${i}` }));

describe('GroupedInserts', () => {
  it('sends nothing for no documents, and a first insert at once', async () => {
    const { sent, grouped } = standIn(async () => ({}));
    await expect(grouped.insert([])).resolves.toBe(0);
    expect(sent).toEqual([]);
    await expect(grouped.insert(ids('a', 2))).resolves.toBe(1);
    expect(sent).toEqual([['a0', 'a1']]);
  });

  it('hands each caller its own write errors, indexed in its own documents, whatever their order', async () => {
    let n = 0;
    const { sent, grouped } = standIn(async (docs) => {
      if (n++ === 0) return {};
      // b1 (index 1 of the group) and d0 (index 5) failed; the other four were inserted.
      throw bulkError(
        [
          { index: 5, code: 11000 },
          { index: 1, code: 2 },
        ],
        docs.length - 2,
      );
    });
    const a = grouped.insert(ids('a', 1));
    const rest = [grouped.insert(ids('b', 2)), grouped.insert(ids('c', 3)), grouped.insert(ids('d', 1))];
    const [b, c, d] = await Promise.allSettled(rest);
    await expect(a).resolves.toBe(1);
    expect(sent).toEqual([['a0'], ['b0', 'b1', 'c0', 'c1', 'c2', 'd0']]);
    // The group's command is charged to its first caller, b.
    expect(b.status === 'rejected' && b.reason).toBeInstanceOf(GroupedInsertError);
    expect(b).toMatchObject({ status: 'rejected', reason: { commands: 1, code: 2, collection: 'things' } });
    expect((b as PromiseRejectedResult).reason.writeErrors).toEqual([{ index: 1, code: 2, errmsg: 'E2' }]);
    expect(c).toEqual({ status: 'fulfilled', value: 0 });
    expect(d).toMatchObject({ status: 'rejected', reason: { commands: 0, code: 11000 } });
    expect((d as PromiseRejectedResult).reason.writeErrors).toEqual([
      { index: 0, code: 11000, errmsg: 'E11000' },
    ]);
  });

  /** A first insert alone, then b, c and d together: what each of them gets. */
  async function groupOfThree(
    failure: (docs: Doc[]) => Error,
  ): Promise<{ sent: string[][]; results: PromiseSettledResult<number>[] }> {
    let n = 0;
    const { sent, grouped } = standIn(async (docs) => {
      n++;
      if (n === 1) return {};
      if (n === 2) throw failure(docs);
      if (docs.some((d) => d._id.startsWith('c'))) throw Object.assign(new Error('bad'), { code: 2 });
    });
    const a = grouped.insert(ids('a', 1));
    const results = await Promise.allSettled([
      grouped.insert(ids('b', 2)),
      grouped.insert(ids('c', 1)),
      grouped.insert(ids('d', 1)),
    ]);
    await expect(a).resolves.toBe(1);
    return { sent, results };
  }

  const mayHaveWritten: Array<[string, (docs: Doc[]) => Error]> = [
    ['a network error', () => Object.assign(new Error('socket closed'), { name: 'MongoNetworkError' })],
    [
      'no server selected',
      () => Object.assign(new Error('timed out'), { name: 'MongoServerSelectionError' }),
    ],
    [
      'a write concern error beside the write errors',
      (docs) => bulkError([{ index: 0, code: 11000 }], docs.length - 1, { code: 64 }),
    ],
    // The driver's wrapping of a write concern error: no write errors, the code of the concern's.
    ['a write concern error alone', () => bulkError([], 0, { code: 64 })],
  ];

  it.each(mayHaveWritten)('rejects every caller with the error after %s', async (_, failure) => {
    const { sent, results } = await groupOfThree(failure);
    // Not sent again: the command may have stored documents, and each caller's retry decides.
    expect(sent).toEqual([['a0'], ['b0', 'b1', 'c0', 'd0']]);
    const reasons = results.map((r) => (r.status === 'rejected' ? r.reason : r));
    expect(new Set(reasons).size).toBe(1);
    expect(reasons[0]).toBeInstanceOf(Error);
    expect(reasons[0]).not.toBeInstanceOf(GroupedInsertError);
  });

  const refusedWhole: Array<[string, (docs: Doc[]) => Error]> = [
    [
      'a document the driver refuses',
      () =>
        Object.assign(new Error('Document is larger than the maximum size'), {
          name: 'MongoInvalidArgumentError',
        }),
    ],
    // Defensive: write errors that do not account for every document are not attributed.
    [
      'write errors that leave documents unaccounted for',
      (docs) => bulkError([{ index: 0, code: 11000 }], docs.length - 3),
    ],
  ];

  it.each(refusedWhole)('sends each caller again on its own after %s', async (_, failure) => {
    const { sent, results } = await groupOfThree(failure);
    expect(sent).toEqual([['a0'], ['b0', 'b1', 'c0', 'd0'], ['b0', 'b1'], ['c0'], ['d0']]);
    const [b, c, d] = results;
    // Each caller is charged its own command (the refused one is not counted).
    expect(b).toEqual({ status: 'fulfilled', value: 1 });
    expect(c).toMatchObject({ status: 'rejected', reason: { message: 'bad' } });
    expect(d).toEqual({ status: 'fulfilled', value: 1 });
  });

  it("gives a lone caller the driver's own error, write errors included", async () => {
    const failures = [
      Object.assign(new Error('socket closed'), { name: 'MongoNetworkError' }),
      bulkError([{ index: 1, code: 11000 }], 1),
    ];
    let n = 0;
    const { sent, grouped } = standIn(async () => {
      throw failures[n++];
    });
    await expect(grouped.insert(ids('a', 2))).rejects.toBe(failures[0]);
    await expect(grouped.insert(ids('b', 2))).rejects.toBe(failures[1]);
    expect(sent).toEqual([
      ['a0', 'a1'],
      ['b0', 'b1'],
    ]);
  });

  it('gives a caller every one of its write errors, with the server details', async () => {
    let n = 0;
    const { grouped } = standIn(async (docs) => {
      if (n++ === 0) return {};
      const err = bulkError(
        [
          { index: 3, code: 121 },
          { index: 1, code: 11000 },
        ],
        docs.length - 2,
      );
      (err as unknown as { writeErrors: Array<{ errInfo?: unknown }> }).writeErrors[0].errInfo = {
        failed: 'x',
      };
      throw err;
    });
    const a = grouped.insert(ids('a', 1));
    const b = grouped.insert(ids('b', 1));
    const c = grouped.insert(ids('c', 3));
    await expect(a).resolves.toBe(1);
    await expect(b).resolves.toBe(1);
    const err = (await c.catch((e: unknown) => e)) as GroupedInsertError;
    expect(err.writeErrors).toEqual([
      { index: 0, code: 11000, errmsg: 'E11000' },
      { index: 2, code: 121, errmsg: 'E121', errInfo: { failed: 'x' } },
    ]);
    expect(err.code).toBe(11000);
  });

  it("classifies a caller's error as the driver's error with the same write errors", () => {
    for (const codes of [
      [11000, 11000],
      [11000, 2],
      [91, 11600],
    ]) {
      const writeErrors = codes.map((code, index) => ({ index, code, errmsg: `E${code}` }));
      expect([codes, classifyFailure(new GroupedInsertError('things', writeErrors, 0))]).toEqual([
        codes,
        classifyFailure(bulkError(writeErrors, 0)),
      ]);
      expect(isDuplicateKey(new GroupedInsertError('things', writeErrors, 0))).toBe(
        isDuplicateKey(bulkError(writeErrors, 0)),
      );
    }
  });

  it('settles every caller when the collection cannot be had', async () => {
    let calls = 0;
    const grouped = new GroupedInserts<Doc>(() => {
      calls++;
      throw new Error('no database');
    });
    const a = grouped.insert(ids('a', 1));
    const b = grouped.insert(ids('b', 1));
    await expect(a).rejects.toThrow('no database');
    await expect(b).rejects.toThrow('no database');
    expect(calls).toBe(2);
  });

  it('keeps sending after a failure: the next caller is not held back', async () => {
    let n = 0;
    const { sent, grouped } = standIn(async () => {
      if (n++ === 0) throw new Error('first fails');
    });
    const a = grouped.insert(ids('a', 1));
    const b = grouped.insert(ids('b', 1));
    await expect(a).rejects.toThrow('first fails');
    await expect(b).resolves.toBe(1);
    expect(sent).toEqual([['a0'], ['b0']]);
  });
});
