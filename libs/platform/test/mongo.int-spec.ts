/**
 * Acceptance: mongoose connects to the real MongoDB-wire server (mongod, or FerretDB here), a
 * unique index rejects a duplicate, and an unordered bulkWrite of $inc upserts applies exactly.
 * Also pins down the behaviours the services' hot paths rely on, so a server that lacks one
 * fails here first.
 */
import { testInfra } from '@llmops/testing';
import mongoose, { type Connection, type mongo, Schema } from 'mongoose';
import { mongoCheck } from '../src/health/health';
import { mongoServerKind } from '../src/mongo/server-kind';

// The driver is mongoose's own copy: its error classes come from mongoose.mongo.
const { MongoBulkWriteError, MongoServerError } = mongoose.mongo;
type MongoServerError = InstanceType<typeof MongoServerError>;
type MongoBulkWriteError = InstanceType<typeof MongoBulkWriteError>;

interface Counter {
  _id: string;
  n: number;
  sum: number;
  max?: number;
  createdBy?: string;
}

describe('MongoDB via mongoose (real MongoDB-wire server)', () => {
  const infra = testInfra();
  let connection: Connection;

  beforeAll(async () => {
    connection = mongoose.createConnection(infra.mongoBaseUri, {
      dbName: infra.dbName,
      serverSelectionTimeoutMS: 5_000,
      bufferCommands: false,
    });
    await connection.asPromise();
  });

  afterAll(async () => {
    await connection?.dropDatabase().catch(() => undefined);
    await connection?.close();
  });

  it('connects, and the readiness check pings it', async () => {
    expect(connection.readyState).toBe(1);
    expect(connection.db!.databaseName).toBe(infra.dbName);
    await expect(mongoCheck(connection).check()).resolves.toBeUndefined();
  });

  it('rejects a duplicate on a unique index with E11000', async () => {
    const PromptVersion = connection.model(
      'PromptVersion',
      // Unique on the content hash: concurrent registrations of one spec resolve to one version.
      new Schema({ hash: { type: String, required: true, unique: true }, author: String }),
    );
    await PromptVersion.init();
    await PromptVersion.create({ hash: 'abc123', author: 'ada' });

    const err = await PromptVersion.create({ hash: 'abc123', author: 'bob' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MongoServerError);
    expect((err as MongoServerError).code).toBe(11000);
    expect((err as MongoServerError).message).toMatch(/E11000/);
    expect(await PromptVersion.countDocuments({ hash: 'abc123' })).toBe(1);
    expect((await PromptVersion.findOne({ hash: 'abc123' }).lean())?.author).toBe('ada');
  });

  it('applies an unordered bulkWrite of $inc upserts exactly', async () => {
    const counters = connection.collection<Counter>('counters');
    await counters.insertOne({ _id: 'existing', n: 10, sum: 100, createdBy: 'seed' });
    const inc = (id: string, n: number, sum: number, max: number): mongo.AnyBulkWriteOperation<Counter> => ({
      updateOne: {
        filter: { _id: id },
        update: { $inc: { n, sum }, $max: { max }, $setOnInsert: { createdBy: 'bulk' } },
        upsert: true,
      },
    });
    const ops = [
      inc('a', 1, 5, 5),
      inc('b', 1, 2, 2),
      inc('a', 2, -1, 3),
      inc('existing', 1, 7, 7),
      inc('c', 4, 40, 40),
      inc('a', 1, 10, 10),
      inc('b', 3, 0.5, 1),
    ];
    const result = await counters.bulkWrite(ops, { ordered: false });
    expect(result.upsertedCount).toBe(3);
    expect(result.upsertedCount + result.matchedCount).toBe(ops.length);

    const docs = await counters.find({}, { sort: { _id: 1 } }).toArray();
    expect(docs).toEqual([
      { _id: 'a', n: 4, sum: 14, max: 10, createdBy: 'bulk' },
      { _id: 'b', n: 4, sum: 2.5, max: 2, createdBy: 'bulk' },
      { _id: 'c', n: 4, sum: 40, max: 40, createdBy: 'bulk' },
      { _id: 'existing', n: 11, sum: 107, max: 7, createdBy: 'seed' },
    ]);

    // The same through a mongoose model (what services use for non-hot paths).
    const Model = connection.model<Counter>(
      'Counter',
      new Schema<Counter>({ _id: String, n: Number, sum: Number, max: Number, createdBy: String }),
      'counters',
    );
    await Model.bulkWrite(
      [
        { updateOne: { filter: { _id: 'a' }, update: { $inc: { n: 1, sum: 1 } }, upsert: true } },
        { updateOne: { filter: { _id: 'd' }, update: { $inc: { n: 1, sum: 1 } }, upsert: true } },
      ],
      { ordered: false },
    );
    expect(await Model.findById('a').lean()).toMatchObject({ n: 5, sum: 15 });
    expect(await Model.findById('d').lean()).toMatchObject({ n: 1, sum: 1 });
  });

  it('keeps applying the other operations of an unordered bulkWrite when one fails', async () => {
    const items = connection.collection<{ _id: string; n: number; sku?: string }>('items');
    await items.createIndex({ sku: 1 }, { unique: true, sparse: true });
    await items.insertOne({ _id: 'taken', n: 0, sku: 'S1' });
    const err = await items
      .bulkWrite(
        [
          { updateOne: { filter: { _id: 'x' }, update: { $inc: { n: 1 } }, upsert: true } },
          { insertOne: { document: { _id: 'dup', n: 0, sku: 'S1' } } },
          { updateOne: { filter: { _id: 'y' }, update: { $inc: { n: 2 } }, upsert: true } },
          { updateOne: { filter: { _id: 'x' }, update: { $inc: { n: 3 } }, upsert: true } },
        ],
        { ordered: false },
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(MongoBulkWriteError);
    const writeErrors = (err as MongoBulkWriteError).writeErrors;
    const list = Array.isArray(writeErrors) ? writeErrors : [writeErrors];
    expect(list.map((e) => [e.index, e.code])).toEqual([[1, 11000]]);
    expect(await items.findOne({ _id: 'x' })).toMatchObject({ n: 4 });
    expect(await items.findOne({ _id: 'y' })).toMatchObject({ n: 2 });
    expect(await items.findOne({ _id: 'dup' })).toBeNull();
  });

  it("finds and deletes by `_id` $in exactly the documents named, whatever the ids' types", async () => {
    // The local FerretDB build looks an `$in` of strings or ObjectIDs up in the `_id` index
    // (deploy/local/ferretdb/source-patches.json); the answers must be MongoDB's either way.
    const col = connection.db!.collection<{ _id: unknown; v: number }>('by_id_in');
    const oids = [new mongoose.mongo.ObjectId(), new mongoose.mongo.ObjectId()];
    const docs = [
      ...Array.from({ length: 50 }, (_, i) => ({ _id: `s${i}`, v: i })),
      { _id: oids[0], v: 100 },
      { _id: oids[1], v: 101 },
      { _id: 1, v: 200 },
      { _id: '1', v: 201 },
      { _id: { a: 1 }, v: 202 },
    ];
    await col.insertMany(docs as never);
    const values = async (ids: unknown[]): Promise<number[]> =>
      (await col.find({ _id: { $in: ids } } as never).toArray()).map((d) => d.v).sort((a, b) => a - b);

    expect(await values(['s1', 's3', 'missing'])).toEqual([1, 3]);
    expect(await values([oids[1], 's2'])).toEqual([2, 101]);
    // A string is not the number it spells, nor a document.
    expect(await values(['1'])).toEqual([201]);
    expect(await values([1, { a: 1 }, 's4'])).toEqual([4, 200, 202]);
    // More values than the pushdown takes: still exact.
    const many = Array.from({ length: 10_001 }, (_, i) => `x${i}`).concat(['s5']);
    expect(await values(many)).toEqual([5]);

    // On FerretDB's SQLite backend, the local build looks an $in of strings or ObjectIDs up in the
    // `_id` index; a mixed one is filtered after a scan. Its explain gives SQLite's plan as lines;
    // the PostgreSQL backend (not patched) gives PostgreSQL's plan as a document.
    if ((await mongoServerKind(connection)) === 'ferretdb') {
      const plan = async (ids: unknown[]) =>
        (await col.find({ _id: { $in: ids } } as never).explain()) as unknown as {
          filterPushdown?: boolean;
          queryPlanner?: { Plan?: string[] | Record<string, unknown> };
        };
      const pushed = await plan(['s1', oids[0]]);
      expect(pushed.queryPlanner?.Plan).toBeDefined();
      if (Array.isArray(pushed.queryPlanner?.Plan)) {
        expect(pushed.filterPushdown).toBe(true);
        expect(pushed.queryPlanner.Plan.join('\n')).toMatch(/SEARCH .* USING INDEX/);
        const mixed = await plan(['s1', 1]);
        expect(mixed.filterPushdown).toBe(false);
        expect((mixed.queryPlanner?.Plan as string[]).join('\n')).toMatch(/SCAN/);
      }
    }

    const deleted = await col.deleteMany({ _id: { $in: ['s0', 's10', oids[0], 'missing', '1'] } } as never);
    expect(deleted.deletedCount).toBe(4);
    const left = (await col.find({}).toArray()).map((d) => d.v).sort((a, b) => a - b);
    expect(left).toEqual(docs.map((d) => d.v).filter((v) => ![0, 10, 100, 201].includes(v)));
  });
});
