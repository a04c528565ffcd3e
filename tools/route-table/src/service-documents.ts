/**
 * Each service's OpenAPI document, as the service itself serves it at /docs-json. The document is
 * built by createServiceApp from the live application (Nest controllers plus the direct routes its
 * providers declare), which needs the service's MongoDB connection; and no code may import a service.
 * So every service runs once as a process (its TypeScript sources, like `npm start`) against the
 * given Kafka and MongoDB, under a topic prefix and databases of its own that are removed afterwards.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { mongo } from 'mongoose';
import { freePort } from '@llmops/testing';
import { type OpenApiDocument, SERVICES, type ServiceName } from './route-table';

const ROOT = join(__dirname, '..', '..', '..');
// Six services boot at once, each compiling its sources on the fly: generous on a busy machine.
const READY_TIMEOUT_MS = 300_000;

export interface Infrastructure {
  kafkaBrokers: string;
  mongoUri: string;
}

async function fetchDocument(
  url: string,
  child: ChildProcess,
  output: () => string,
): Promise<OpenApiDocument> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `the service exited (${child.exitCode ?? child.signalCode}):\n${output().slice(-4000)}`,
      );
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return (await res.json()) as OpenApiDocument;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      throw new Error(`no document at ${url} within ${READY_TIMEOUT_MS} ms:\n${output().slice(-4000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function documentOf(name: ServiceName, env: Record<string, string>): Promise<OpenApiDocument> {
  const port = await freePort();
  let out = '';
  const child = spawn(
    process.execPath,
    ['-r', '@swc-node/register', join('services', name, 'src', 'main.ts')],
    {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn', ...env, PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    return await fetchDocument(`http://127.0.0.1:${port}/docs-json`, child, () => out);
  } catch (err) {
    throw new Error(`${name}: ${(err as Error).message}`);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  }
}

/** Starts the services (in parallel), reads their documents, stops them and removes their data. */
export async function collectServiceDocuments(
  infra: Infrastructure,
): Promise<Record<ServiceName, OpenApiDocument>> {
  const id = `routes${randomBytes(4).toString('hex')}`;
  const topicPrefix = `${id}.`;
  const common = {
    KAFKA_BROKERS: infra.kafkaBrokers,
    KAFKA_TOPIC_PREFIX: topicPrefix,
    MONGODB_URI: infra.mongoUri,
    // Nobody calls a route: a pepper of this run only.
    LLMOPS_KEY_PEPPER: randomBytes(32).toString('base64url'),
    ANALYTICS_CONSUMER_GROUP: `${id}-analytics`,
    IDENTITY_AUDIT_CONSUMER_GROUP: `${id}-identity`,
    DATASETS_CONSUMER_GROUP: `${id}-datasets`,
  };
  const dbOf = (name: ServiceName) => `${id}_${name}`;
  try {
    const documents = await Promise.all(
      SERVICES.map((name) => documentOf(name, { ...common, MONGODB_DB: dbOf(name) })),
    );
    return Object.fromEntries(SERVICES.map((name, i) => [name, documents[i]])) as Record<
      ServiceName,
      OpenApiDocument
    >;
  } finally {
    await removeData(infra, id, SERVICES.map(dbOf));
  }
}

async function removeData(infra: Infrastructure, runId: string, databases: string[]): Promise<void> {
  const topicPrefix = `${runId}.`;
  const kafka = new Kafka({
    brokers: infra.kafkaBrokers.split(','),
    clientId: 'route-table',
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(topicPrefix));
    if (topics.length > 0) await admin.deleteTopics({ topics });
    // The consumer groups named after the run (the ones that commit offsets).
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(runId));
    if (groups.length > 0) await admin.deleteGroups(groups);
  } finally {
    await admin.disconnect();
  }
  const client = await mongo.MongoClient.connect(infra.mongoUri, { serverSelectionTimeoutMS: 10_000 });
  try {
    for (const db of databases) await client.db(db).dropDatabase();
  } finally {
    await client.close();
  }
}
