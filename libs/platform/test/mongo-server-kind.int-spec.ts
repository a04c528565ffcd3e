import mongoose from 'mongoose';
import { startDedicatedMongo, type DedicatedMongo } from '@llmops/testing';
import { mongoServerKind } from '../src/mongo/server-kind';

describe('mongoServerKind', () => {
  let server: DedicatedMongo;
  let connection: mongoose.Connection;

  beforeAll(async () => {
    server = await startDedicatedMongo('server-kind');
    connection = await mongoose.createConnection(server.uri).asPromise();
  }, 120_000);

  afterAll(async () => {
    await connection?.close();
    await server?.destroy();
  });

  it('names the engine the launcher started: mongod is MongoDB, anything else is FerretDB', async () => {
    const expected = server.component.engine === 'mongod' ? 'mongodb' : 'ferretdb';
    await expect(mongoServerKind(connection)).resolves.toBe(expected);
  });
});
