import { createHash, randomBytes } from 'node:crypto';

export interface TestInfra {
  kafkaBrokers: string;
  /** Base URI without a database. */
  mongoBaseUri: string;
  /** URI selecting this file's own database. */
  mongoUri: string;
  dbName: string;
  /** Prefix for every topic this file creates, e.g. `t3f2a9c1d.`. */
  topicPrefix: string;
  /** Unique string for consumer group ids and client ids. */
  id: string;
}

/** Puts a database name into a MongoDB URI, keeping its query string. */
export function withDatabase(uri: string, dbName: string): string {
  const url = new URL(uri);
  url.pathname = `/${dbName}`;
  return url.toString();
}

/**
 * Each test file gets its own database and topic prefix, so files running in parallel (and
 * reruns against long-lived infrastructure) never see each other's data.
 */
export function testInfra(label?: string): TestInfra {
  const kafkaBrokers = process.env.KAFKA_BROKERS;
  const mongoBaseUri = process.env.MONGODB_URI;
  if (!kafkaBrokers || !mongoBaseUri) {
    throw new Error(
      'KAFKA_BROKERS and MONGODB_URI are not set: this test needs the jest global setup (do not set LLMOPS_SKIP_INFRA=1)',
    );
  }
  const testPath = label ?? expect.getState().testPath ?? 'adhoc';
  const fileTag = createHash('sha256').update(testPath).digest('hex').slice(0, 6);
  const id = `t${fileTag}${randomBytes(3).toString('hex')}`;
  const dbName = `test_${id}`;
  return {
    kafkaBrokers,
    mongoBaseUri,
    mongoUri: withDatabase(mongoBaseUri, dbName),
    dbName,
    topicPrefix: `${id}.`,
    id,
  };
}
