/**
 * GroupedInserts' attribution of a failed command, on a stand-in collection that answers as the
 * driver does (the real server's error shapes are checked in grouped-inserts.int-spec.ts).
 */
import type { mongo } from 'mongoose';
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

  const failedAsAWhole: Array<[string, (docs: Doc[]) => Error]> = [
    ['a network error', () => Object.assign(new Error('socket closed'), { name: 'MongoNetworkError' })],
    // A later part of a split command failed: its documents are neither inserted nor errors.
    [
      'write errors that leave documents unaccounted for',
      (docs) => bulkError([{ index: 0, code: 11000 }], docs.length - 3),
    ],
    [
      'a write concern error',
      (docs) => bulkError([{ index: 0, code: 11000 }], docs.length - 1, { code: 64 }),
    ],
  ];

  it.each(failedAsAWhole)('sends each caller again on its own after %s', async (_, failure) => {
    let n = 0;
    const { sent, grouped } = standIn(async (docs) => {
      n++;
      if (n === 1) return {};
      if (n === 2) throw failure(docs);
      if (docs.some((d) => d._id.startsWith('c'))) throw Object.assign(new Error('bad'), { code: 2 });
    });
    const a = grouped.insert(ids('a', 1));
    const [b, c, d] = await Promise.allSettled([
      grouped.insert(ids('b', 2)),
      grouped.insert(ids('c', 1)),
      grouped.insert(ids('d', 1)),
    ]);
    await expect(a).resolves.toBe(1);
    expect(sent).toEqual([['a0'], ['b0', 'b1', 'c0', 'd0'], ['b0', 'b1'], ['c0'], ['d0']]);
    // b is charged the group's command and its own.
    expect(b).toEqual({ status: 'fulfilled', value: 2 });
    expect(c).toMatchObject({ status: 'rejected', reason: { message: 'bad' } });
    expect(d).toEqual({ status: 'fulfilled', value: 1 });
  });

  it('rejects a lone caller with the error of a command that failed as a whole', async () => {
    const failure = Object.assign(new Error('socket closed'), { name: 'MongoNetworkError' });
    const { sent, grouped } = standIn(async () => {
      throw failure;
    });
    await expect(grouped.insert(ids('a', 2))).rejects.toBe(failure);
    expect(sent).toEqual([['a0', 'a1']]);
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
