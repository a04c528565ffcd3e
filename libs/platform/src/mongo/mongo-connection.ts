import { type DynamicModule } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import type { BaseServiceConfig } from '../config/config';
import { setOperationTimeout } from './deadline';

/**
 * The service's one MongoDB connection (`@InjectConnection()`, and the models of
 * `MongooseModule.forFeature`). It fails the boot when the server does not answer within the
 * server-selection timeout, and it is closed at application shutdown, after the HTTP server.
 */
export function mongoConnectionModule(config: BaseServiceConfig): DynamicModule {
  return MongooseModule.forRoot(config.MONGODB_URI, {
    dbName: config.MONGODB_DB,
    serverSelectionTimeoutMS: 5_000,
    // The monitor's heartbeats (and new connections) give up on a silent server after this.
    connectTimeoutMS: 5_000,
    // Warm connections, and more of them opened at once (the driver's default is 2): a burst of
    // requests would otherwise spend its operation deadline waiting for a connection.
    minPoolSize: 5,
    maxConnecting: 10,
    // Fail fast instead of buffering commands while the database is away.
    bufferCommands: false,
    // Collections appear on first write, and indexes are created by ensureIndexes at boot, awaited
    // and one per command, instead of in the background when a model is compiled.
    autoCreate: false,
    autoIndex: false,
    // The boot fails at once; the orchestrator restarts the service.
    retryAttempts: 0,
    // Request paths read and write through requestDb/requestCollection, bounded by this deadline.
    connectionFactory: (connection: Connection) => {
      setOperationTimeout(connection, config.MONGODB_OPERATION_TIMEOUT_MS);
      return connection;
    },
  });
}
