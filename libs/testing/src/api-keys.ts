/**
 * API keys for tests, without the identity service: `issueTestKey` writes a key snapshot to the
 * namespace's API keys topic, exactly as the identity service does, and returns the plain key.
 * Services under test verify it once their KeyDirectory has read it
 * (`app.get(KeyDirectory).waitFor(issued.keyId)`); they must run with
 * `LLMOPS_KEY_PEPPER: TEST_KEY_PEPPER`.
 */
import { Kafka, logLevel } from 'kafkajs';
import {
  API_KEYS_PARTITIONS,
  CLOUDEVENTS_CONTENT_TYPE,
  createEvent,
  DEFAULT_PROJECT,
  EVENT_SOURCES,
  EVENT_TYPES,
  HEADER_CONTENT_TYPE,
  SCOPES,
  type Scope,
  serializeEvent,
  TOPICS,
  topicName,
} from '@llmops/contracts';
import { generateApiKey, hashKeySecret } from '@llmops/hashing';
import type { TestInfra } from './namespace';

/** The pepper every service under test runs with. */
export const TEST_KEY_PEPPER = 'test-pepper-0123456789abcdef0123456789abcdef';

export interface TestKeyOptions {
  project?: string;
  /** Default: every scope. */
  scopes?: readonly Scope[];
  aliases?: string[];
  expiresAt?: Date;
  name?: string;
}

export interface IssuedTestKey {
  key: string;
  keyId: string;
  project: string;
  /** `{ authorization: 'Bearer <key>' }` */
  header: { authorization: string };
  /** The snapshot as published, for revoking. */
  snapshot: Record<string, unknown>;
}

async function publish(infra: Pick<TestInfra, 'kafkaBrokers' | 'topicPrefix'>, keyId: string, data: unknown) {
  const kafka = new Kafka({
    brokers: infra.kafkaBrokers.split(','),
    clientId: 'test-keys',
    logLevel: logLevel.NOTHING,
  });
  const topic = topicName(TOPICS.apiKeys, infra.topicPrefix);
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) {
      await admin
        .createTopics({
          waitForLeaders: true,
          topics: [
            {
              topic,
              numPartitions: API_KEYS_PARTITIONS,
              configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
            },
          ],
        })
        .catch(() => undefined); // created concurrently by a service under test
    }
  } finally {
    await admin.disconnect();
  }
  const producer = kafka.producer();
  await producer.connect();
  try {
    const event = createEvent(EVENT_TYPES.apiKeyUpdated, data as never, {
      source: EVENT_SOURCES.identity,
      project: (data as { project: string }).project,
    });
    await producer.send({
      topic,
      acks: -1,
      messages: [
        {
          key: keyId,
          value: serializeEvent(event),
          headers: { [HEADER_CONTENT_TYPE]: CLOUDEVENTS_CONTENT_TYPE },
        },
      ],
    });
  } finally {
    await producer.disconnect();
  }
}

export async function issueTestKey(
  infra: Pick<TestInfra, 'kafkaBrokers' | 'topicPrefix'>,
  options: TestKeyOptions = {},
): Promise<IssuedTestKey> {
  const generated = generateApiKey();
  const project = options.project ?? DEFAULT_PROJECT;
  const snapshot = {
    keyId: generated.keyId,
    project,
    name: options.name ?? 'test key',
    scopes: [...(options.scopes ?? SCOPES)],
    ...(options.aliases ? { aliases: options.aliases } : {}),
    secretHash: hashKeySecret(generated.secret, TEST_KEY_PEPPER),
    createdAt: new Date().toISOString(),
    expiresAt: options.expiresAt ? options.expiresAt.toISOString() : null,
    revokedAt: null,
    projectDeleted: false,
  };
  await publish(infra, generated.keyId, snapshot);
  return {
    key: generated.key,
    keyId: generated.keyId,
    project,
    header: { authorization: `Bearer ${generated.key}` },
    snapshot,
  };
}

/** Publishes the key's snapshot as issued again (an older snapshot read after a newer one). */
export async function republishTestKey(
  infra: Pick<TestInfra, 'kafkaBrokers' | 'topicPrefix'>,
  issued: IssuedTestKey,
): Promise<void> {
  await publish(infra, issued.keyId, issued.snapshot);
}

/** Publishes the key's revocation (what the identity service does on DELETE). */
export async function revokeTestKey(
  infra: Pick<TestInfra, 'kafkaBrokers' | 'topicPrefix'>,
  issued: IssuedTestKey,
): Promise<void> {
  await publish(infra, issued.keyId, { ...issued.snapshot, revokedAt: new Date().toISOString() });
}
