/**
 * GroupedInserts on the real MongoDB-wire server: inserts that arrive while one is in flight go out
 * as one command, and each caller's promise settles as its own unordered insertMany would have, with
 * the server's own error shapes (a duplicate key of one caller fails that caller only; a document
 * the driver refuses fails its caller only).
 */
import { testInfra } from '@llmops/testing';
import mongoose, { type Connection, type mongo } from 'mongoose';
import { isDuplicateKey } from '../src/mongo/duplicate-key';
import { GroupedInsertError, GroupedInserts } from '../src/mongo/grouped-inserts';

interface Doc {
  _id: string;
  v: string;
}

describe('GroupedInserts (real MongoDB-wire server)', () => {
  const infra = testInfra();
  let connection: Connection;
  const inserts: mongo.CommandStartedEvent[] = [];
  let name = 0;

  beforeAll(async () => {
    connection = mongoose.createConnection(infra.mongoBaseUri, {
      dbName: infra.dbName,
      serverSelectionTimeoutMS: 5_000,
      bufferCommands: false,
      monitorCommands: true,
    });
    await connection.asPromise();
    connection.getClient().on('commandStarted', (e) => {
      if (e.commandName === 'insert') inserts.push(e);
    });
  });

  afterAll(async () => {
    await connection?.dropDatabase().catch(() => undefined);
    await connection?.close();
  });

  const fresh = async (): Promise<{ collection: mongo.Collection<Doc>; grouped: GroupedInserts<Doc> }> => {
    const collection = connection.db!.collection<Doc>(`grouped_${name++}`);
    await collection.insertOne({ _id: 'taken', v: 'before' });
    inserts.length = 0;
    return { collection, grouped: new GroupedInserts(() => collection) };
  };
  const docs = (prefix: string, n: number): Doc[] =>
    Array.from({ length: n }, (_, i) => ({ _id: `${prefix}${i}`, v: prefix }));
  const stored = async (collection: mongo.Collection<Doc>): Promise<string[]> =>
    (await collection.find({}).toArray()).map((d) => d._id).sort();

  it('sends the inserts that arrive while one is in flight as one command, and charges each command once', async () => {
    const { collection, grouped } = await fresh();
    const calls = ['a', 'b', 'c', 'd', 'e'].map((p) => grouped.insert(docs(p, 3)));
    const charged = await Promise.all(calls);
    // The first goes out at once; the four that arrived meanwhile go out together after it.
    expect(inserts.map((e) => (e.command.documents as unknown[]).length)).toEqual([3, 12]);
    expect(charged.reduce((a, b) => a + b, 0)).toBe(inserts.length);
    expect(await stored(collection)).toEqual(
      ['taken', ...['a', 'b', 'c', 'd', 'e'].flatMap((p) => docs(p, 3).map((d) => d._id))].sort(),
    );
  });

  it('fails only the caller whose document has a duplicate key, with its own write errors; the rest are stored', async () => {
    const { collection, grouped } = await fresh();
    const first = grouped.insert(docs('a', 2));
    const clash = grouped.insert([
      { _id: 'b0', v: 'b' },
      { _id: 'taken', v: 'b' },
      { _id: 'b2', v: 'b' },
    ]);
    const after = grouped.insert(docs('c', 2));
    const [a, b, c] = await Promise.allSettled([first, clash, after]);
    expect(inserts).toHaveLength(2);
    expect(a.status).toBe('fulfilled');
    expect(c.status).toBe('fulfilled');
    expect(b.status).toBe('rejected');
    const err = (b as PromiseRejectedResult).reason as GroupedInsertError;
    expect(err).toBeInstanceOf(GroupedInsertError);
    expect(isDuplicateKey(err)).toBe(true);
    expect(err.writeErrors.map((w) => [w.index, w.code])).toEqual([[1, 11000]]);
    // Unordered: the caller's other documents are stored, as its own insertMany would have stored them.
    expect(await stored(collection)).toEqual(['a0', 'a1', 'b0', 'b2', 'c0', 'c1', 'taken']);
    expect((await collection.findOne({ _id: 'taken' }))?.v).toBe('before');
  });

  it("gives a lone caller the driver's own answer", async () => {
    const { collection, grouped } = await fresh();
    const err = await grouped
      .insert([
        { _id: 'taken', v: 'x' },
        { _id: 'x1', v: 'x' },
      ])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(mongoose.mongo.MongoBulkWriteError);
    expect(isDuplicateKey(err)).toBe(true);
    expect(await stored(collection)).toEqual(['taken', 'x1']);
  });

  it('sends callers again one by one when the driver refuses their command, so one bad document fails its caller only', async () => {
    const { collection, grouped } = await fresh();
    const first = grouped.insert(docs('a', 1));
    // Over the server's 16 MiB document limit: the driver refuses the whole command before sending it.
    const huge = grouped.insert([{ _id: 'huge', v: 'x'.repeat(17 * 1024 * 1024) }]);
    const others = [grouped.insert(docs('b', 2)), grouped.insert(docs('c', 2))];
    const [a, h, b, c] = await Promise.allSettled([first, huge, ...others]);
    expect([a.status, b.status, c.status]).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    expect(h.status).toBe('rejected');
    expect((h as PromiseRejectedResult).reason).not.toBeInstanceOf(GroupedInsertError);
    expect(await stored(collection)).toEqual(['a0', 'b0', 'b1', 'c0', 'c1', 'taken']);
    // The first command alone, then the other two callers on their own (the refused one never left).
    expect(inserts.map((e) => (e.command.documents as Doc[]).map((d) => d._id))).toEqual([
      ['a0'],
      ['b0', 'b1'],
      ['c0', 'c1'],
    ]);
    // Each command sent is charged to one caller.
    expect((await Promise.all([first, ...others])).reduce((x, y) => x + y, 0)).toBe(inserts.length);
  });
});
