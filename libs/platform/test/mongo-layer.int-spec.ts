/**
 * The platform's MongoDB layer against the real MongoDB-wire server: PlatformModule opens one
 * mongoose connection that models of MongooseModule.forFeature use, request-path collections carry
 * the operation deadline, ensureIndexes creates a schema's indexes at boot (once, without a
 * deadline), isDuplicateKey recognises what unique indexes throw, and the connection is closed at
 * shutdown.
 */
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { getConnectionToken, getModelToken, InjectModel, MongooseModule } from '@nestjs/mongoose';
import { TEST_KEY_PEPPER, testInfra } from '@llmops/testing';
import { type Connection, type Model, Schema } from 'mongoose';
import { baseServiceConfig, loadConfig } from '../src/config/config';
import { deadlineDb, requestCollection } from '../src/mongo/deadline';
import { isDuplicateKey } from '../src/mongo/duplicate-key';
import { ensureIndexes } from '../src/mongo/ensure-indexes';
import { PlatformModule } from '../src/platform.module';

interface Widget {
  _id: string;
  sku: string;
  n: number;
}

const WidgetSchema = new Schema<Widget>({ _id: String, sku: String, n: Number }, { versionKey: false });
// Lookup by sku; unique = one widget per sku.
WidgetSchema.index({ sku: 1 }, { name: 'sku_unique', unique: true });
WidgetSchema.index({ n: -1 });

@Injectable()
class WidgetRepository {
  constructor(@InjectModel('Widget') readonly widgets: Model<Widget>) {}
}

describe('MongoDB layer of PlatformModule (real MongoDB-wire server)', () => {
  const infra = testInfra();
  let app: NestFastifyApplication;
  let widgets: Model<Widget>;

  beforeAll(async () => {
    const config = loadConfig(baseServiceConfig(3998, 'mongo-layer-test'), {
      KAFKA_BROKERS: infra.kafkaBrokers,
      MONGODB_URI: infra.mongoBaseUri,
      MONGODB_DB: infra.dbName,
      MONGODB_OPERATION_TIMEOUT_MS: '1234',
      KAFKA_TOPIC_PREFIX: infra.topicPrefix,
      LLMOPS_KEY_PEPPER: TEST_KEY_PEPPER,
      LOG_LEVEL: 'silent',
    });
    @Module({
      imports: [MongooseModule.forFeature([{ name: 'Widget', schema: WidgetSchema }])],
      providers: [WidgetRepository],
    })
    class WidgetModule {}
    @Module({ imports: [PlatformModule.forRoot({ config, topics: [] }), WidgetModule] })
    class TestAppModule {}
    app = await NestFactory.create<NestFastifyApplication>(TestAppModule, new FastifyAdapter(), {
      logger: false,
    });
    await app.init();
    widgets = app.get(WidgetRepository).widgets;
  });

  let closed = false;

  afterAll(async () => {
    if (closed) return;
    await widgets?.db.dropDatabase().catch(() => undefined);
    await app?.close();
  });

  it('gives models the one connection, and their request collections the operation deadline', async () => {
    const connection = app.get<Connection>(getConnectionToken());
    expect(app.get(getModelToken('Widget'))).toBe(widgets);
    expect(widgets.db).toBe(connection);
    expect(connection.db!.databaseName).toBe(infra.dbName);
    expect(requestCollection(widgets).timeoutMS).toBe(1234);
    expect(requestCollection(widgets).collectionName).toBe(widgets.collection.collectionName);
    expect(widgets.collection.timeoutMS).toBeUndefined();
    await requestCollection(widgets).insertOne({ _id: 'w0', sku: 'S0', n: 0 });
    expect(await widgets.findById('w0').lean()).toEqual({ _id: 'w0', sku: 'S0', n: 0 });
  });

  it('creates a schema’s indexes once, with no operation deadline', async () => {
    // A 1 ms deadline on the database: index creation overrides it.
    const collection = deadlineDb(widgets.db, 1).collection<Widget>('widgets_elsewhere');
    await ensureIndexes(collection, [{ key: { sku: 1 }, name: 'sku_unique', unique: true }]);
    expect((await collection.listIndexes({ timeoutMS: 0 }).toArray()).map((i) => i.name)).toContain(
      'sku_unique',
    );

    await ensureIndexes(widgets);
    const created = jest.spyOn(widgets.collection, 'createIndexes');
    await ensureIndexes(widgets);
    expect(created).not.toHaveBeenCalled();
    created.mockRestore();
    const names = (await widgets.collection.listIndexes().toArray()).map((i) => i.name).sort();
    expect(names).toEqual(['_id_', 'n_-1', 'sku_unique']);
  });

  it('recognises duplicate keys, alone and in bulk writes, and nothing else', async () => {
    await ensureIndexes(widgets);
    await widgets.create({ _id: 'w1', sku: 'S1', n: 1 });
    const failure = (p: Promise<unknown>) =>
      p.then(
        () => {
          throw new Error('the write succeeded');
        },
        (e: unknown) => e,
      );

    expect(isDuplicateKey(await failure(widgets.create({ _id: 'w2', sku: 'S1', n: 2 })))).toBe(true);
    expect(
      isDuplicateKey(await failure(requestCollection(widgets).insertOne({ _id: 'w1', sku: 'S9', n: 9 }))),
    ).toBe(true);
    const allDuplicates = await failure(
      requestCollection(widgets).insertMany(
        [
          { _id: 'w3', sku: 'S1', n: 3 },
          { _id: 'w1', sku: 'S4', n: 4 },
        ],
        { ordered: false },
      ),
    );
    expect(isDuplicateKey(allDuplicates)).toBe(true);
    // The untyped collection: incrementing the text field fails with a code other than 11000.
    const mixed = await failure(
      widgets.collection.bulkWrite(
        [
          { insertOne: { document: { sku: 'S1', n: 5 } } },
          { updateOne: { filter: { sku: 'S1' }, update: { $inc: { sku: 1 } } } },
        ],
        { ordered: false },
      ),
    );
    expect(isDuplicateKey(mixed)).toBe(false);
    expect(
      isDuplicateKey(await failure(widgets.collection.updateOne({ sku: 'S1' }, { $inc: { sku: 1 } }))),
    ).toBe(false);
    expect(await widgets.countDocuments()).toBe(2);
  });

  it('closes the connection when the application shuts down', async () => {
    const connection = app.get<Connection>(getConnectionToken());
    expect(connection.readyState).toBe(1);
    await connection.dropDatabase();
    await app.close();
    closed = true;
    expect(connection.readyState).toBe(0);
  });
});
