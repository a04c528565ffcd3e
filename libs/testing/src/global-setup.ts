/**
 * Jest global setup: provides a real Kafka broker and a real MongoDB-wire server to every test
 * worker through KAFKA_BROKERS / MONGODB_URI.
 *  1. Both variables set: use them as they are.
 *  2. Else, a Docker engine reachable: start the real images with testcontainers.
 *  3. Else: the local launchers (deploy/local): Kafka from Maven Central, mongod or FerretDB.
 * And an MLflow tracking server through MLFLOW_TRACKING_URI: the one it names, else the local
 * launcher's when MLflow is installed, spawned without waiting (it boots in tens of seconds; the
 * tests that use it wait with `waitForMlflow`). Services spawned by tests get it only when asked.
 * Set LLMOPS_SKIP_INFRA=1 to run pure unit tests without any infrastructure.
 */
import { existsSync } from 'node:fs';
// Jest loads global setup outside its module registry, so tsconfig path aliases (moduleNameMapper)
// do not apply here: import the launcher by relative path.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { infraUp } from '../../../deploy/local/src/infra';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { startMlflow } from '../../../deploy/local/src/mlflow';
import { mongo } from 'mongoose';

interface Stoppable {
  stop(): Promise<unknown>;
}

declare global {
  var __LLMOPS_CONTAINERS__: Stoppable[] | undefined;
}

const log = (line: string): void => console.log(`[test-infra] ${line}`);

async function dockerReachable(): Promise<boolean> {
  if (!process.env.DOCKER_HOST && !existsSync('/var/run/docker.sock')) return false;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

async function startContainers(): Promise<{ kafkaBrokers: string; mongoUri: string }> {
  const { KafkaContainer } = await import('@testcontainers/kafka');
  const { MongoDBContainer } = await import('@testcontainers/mongodb');
  const [kafka, mongo] = await Promise.all([
    new KafkaContainer('confluentinc/cp-kafka:7.9.0').withKraft().start(),
    new MongoDBContainer('mongo:7.0').start(),
  ]);
  globalThis.__LLMOPS_CONTAINERS__ = [kafka, mongo];
  return {
    kafkaBrokers: `${kafka.getHost()}:${kafka.getMappedPort(9093)}`,
    mongoUri: mongo.getConnectionString().replace(/\/?(\?.*)?$/, '/?directConnection=true'),
  };
}

export default async function globalSetup(): Promise<void> {
  process.env.TZ = 'UTC';
  if (process.env.LLMOPS_SKIP_INFRA === '1') return;
  if (!process.env.MLFLOW_TRACKING_URI) {
    // MLflow is optional (only its export tests use it): a server that cannot start (a busy port)
    // leaves MLFLOW_TRACKING_URI unset, and those tests say so, instead of failing every suite.
    const mlflow = await startMlflow({
      port: Number(process.env.MLFLOW_PORT ?? 5000),
      wait: false,
      log,
    }).catch((err: unknown) => {
      log(`mlflow: not started: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    });
    if (mlflow) process.env.MLFLOW_TRACKING_URI = mlflow.trackingUri;
  }
  if (process.env.KAFKA_BROKERS && process.env.MONGODB_URI) {
    log(`using KAFKA_BROKERS=${process.env.KAFKA_BROKERS} MONGODB_URI=${process.env.MONGODB_URI}`);
    await noteServerKind(process.env.MONGODB_URI);
    return;
  }
  const started = Date.now();
  const endpoints =
    !process.env.KAFKA_BROKERS && !process.env.MONGODB_URI && (await dockerReachable())
      ? (log('Docker engine reachable: starting Kafka and MongoDB with testcontainers'),
        await startContainers())
      : await infraUp(process.env, log);
  process.env.KAFKA_BROKERS = endpoints.kafkaBrokers;
  process.env.MONGODB_URI = endpoints.mongoUri;
  await noteServerKind(endpoints.mongoUri);
  log(`infrastructure ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/**
 * LLMOPS_MONGO_SERVER_KIND ('mongodb' | 'ferretdb') for the test files, which must decide at load
 * time whether a test that needs a real mongod runs or is reported as skipped.
 */
async function noteServerKind(uri: string): Promise<void> {
  const client = await mongo.MongoClient.connect(uri, { serverSelectionTimeoutMS: 30_000 });
  try {
    // The question mongoServerKind() (@llmops/platform) asks; the platform's own tests use this lib.
    const info = await client.db('admin').command({ buildInfo: 1 });
    process.env.LLMOPS_MONGO_SERVER_KIND = 'ferretdbVersion' in info ? 'ferretdb' : 'mongodb';
  } finally {
    await client.close();
  }
  log(`MongoDB-wire server: ${process.env.LLMOPS_MONGO_SERVER_KIND}`);
}
