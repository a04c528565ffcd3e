import { createHash } from 'node:crypto';
import { TOPICS, topicName } from '@llmops/contracts';
import { type IssuedTestKey, issueTestKey, TEST_KEY_PEPPER } from '@llmops/testing';
import { mongo as driver } from 'mongoose';
import { v7 as uuidv7 } from 'uuid';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the experiment record the service's own tests publish
import { publishExperiments } from '../../../services/feedback/test/support/experiments';
import { type ClaimDocument, KAFKA, MONGO, waitUntil } from './harness';

/** The experiment the benchmarks' items name (it must exist in the key's project). */
export const BENCH_EXPERIMENT = 'bench-feedback';

/**
 * The feedback service's environment in the benchmarks: the test pepper (keys from
 * `issueFeedbackBenchKey`) and an ingest limit per key above what a run reaches.
 */
export const FEEDBACK_BENCH_ENV = { LLMOPS_KEY_PEPPER: TEST_KEY_PEPPER, RATE_LIMIT_INGEST: '10000000' };

/** A key with the ingest scope in project default, on run `run`'s keys topic. */
export function issueFeedbackBenchKey(run: string): Promise<IssuedTestKey> {
  return issueTestKey(
    { kafkaBrokers: KAFKA, topicPrefix: `${run}.` },
    { name: 'feedback benchmark', scopes: ['ingest'] },
  );
}

/**
 * Publishes BENCH_EXPERIMENT to run `run`'s experiments topic (as the assignment service would) and
 * waits until the service at `url` takes an item naming it with `key`.
 */
export async function publishBenchExperiment(run: string, url: string, key: IssuedTestKey): Promise<void> {
  await publishExperiments(KAFKA, `${run}.`, [{ key: BENCH_EXPERIMENT }]);
  await waitUntil(
    async () =>
      (
        await fetch(`${url}/v1/feedback`, {
          method: 'POST',
          headers: { ...key.header, 'content-type': 'application/json' },
          body: JSON.stringify({ ...singleFeedbackItem(0), requestId: 'bench-probe' }),
        })
      ).status === 202,
    'the benchmark experiment reaching the feedback service',
  );
}

/**
 * The smallest revision claim a design can store for a new feedback item: the unique `_id`
 * (`<feedbackId>#<revision>`, from which the id and revision follow), plus what a duplicate needs to
 * re-publish a byte-identical event and what an edit is compared against. The service's documents
 * also carry feedbackId, revision and previousRevision, and its content hash covers the canonical
 * item rather than a short id, so the ceilings built on this favour the alternative.
 */
export function smallestClaim(requestId: string): ClaimDocument {
  const feedbackId = uuidv7();
  const now = new Date().toISOString();
  return {
    _id: `${feedbackId}#1`,
    requestId,
    contentHash: createHash('sha256').update(feedbackId).digest('hex'),
    receivedAt: now,
    timestamp: now,
  };
}

/**
 * The environment of the feedback benchmarks' bound servers: the service's feedback topic of run
 * `run`, and for the claim-bound its claim database and the variant knobs passed through from this
 * process (BENCH_CLAIM_WRITERS, BENCH_CLAIM_LINGER_MS, BENCH_CLAIM_PARALLEL, BENCH_PRODUCER_LINGER_MS).
 */
export function feedbackBoundEnv(run: string): Record<string, string> {
  const env = process.env;
  return {
    BENCH_TOPIC: topicName(TOPICS.feedback, `${run}.`),
    KAFKA_BROKERS: KAFKA,
    MONGODB_URI: MONGO,
    BENCH_CLAIM_DB: claimDb(run),
    BENCH_CLAIM_WRITERS: env.BENCH_CLAIM_WRITERS ?? '1',
    BENCH_CLAIM_LINGER_MS: env.BENCH_CLAIM_LINGER_MS ?? '0',
    BENCH_CLAIM_PARALLEL: env.BENCH_CLAIM_PARALLEL ?? '0',
    ...(env.BENCH_PRODUCER_LINGER_MS === undefined
      ? {}
      : { BENCH_PRODUCER_LINGER_MS: env.BENCH_PRODUCER_LINGER_MS }),
  };
}

/** The database of run `run`'s claim measurements (the claim-bound's and the claim ceiling's). */
export function claimDb(run: string): string {
  return `${run}_claims`;
}

/** Drops run `run`'s claim database (best effort: the benchmark's result does not depend on it). */
export async function dropClaimDb(run: string): Promise<void> {
  const mongo = new driver.MongoClient(MONGO);
  try {
    await mongo.db(claimDb(run)).dropDatabase();
  } catch {
    /* the database may not exist, or MongoDB may be gone at the end of a failed run */
  } finally {
    await mongo.close();
  }
}

/** The n-th item of the single-feedback workload: the common plain shape, varied by n. */
export function singleFeedbackItem(n: number): Record<string, unknown> {
  return {
    requestId: `bench-req-${n}`,
    experiment: BENCH_EXPERIMENT,
    arm: n % 2 ? 'A' : 'B',
    rating: (n % 5) + 1,
    thumbs: n % 3 ? 'up' : 'down',
    source: 'user',
    latencyMs: 800 + (n % 100),
  };
}
