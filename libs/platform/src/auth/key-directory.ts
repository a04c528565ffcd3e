/**
 * The API keys every service verifies locally: an in-memory copy of the compacted `apiKeys` topic,
 * which the identity service fills with one full snapshot per key and change. Every replica reads
 * the whole topic from the beginning in a group of its own (nothing committed), then follows it, so
 * a revocation reaches every replica within the consumer's fetch wait. A request costs one map
 * lookup and one HMAC, with no network call.
 *
 * Readiness (`keys`) turns up once the copy has reached the high watermarks the topic had at start:
 * before that, a valid key could still answer 401.
 */
import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import {
  type CloudEvent,
  EVENT_TYPES,
  safeParseEvent,
  SCOPES,
  type Scope,
  TOPICS,
  topicName,
} from '@llmops/contracts';
import { parseApiKey, verifyKeySecret } from '@llmops/hashing';
import type { ComponentCheck } from '../health/health';
import type { Principal } from './principal';

type KeyRecord = CloudEvent<typeof EVENT_TYPES.apiKeyUpdated>['data'];

interface KnownKey {
  secretHash: string;
  expiresAt: number | null;
  /** Revoked, or its project deleted: never valid again. */
  dead: boolean;
  principal: Principal;
}

export interface KeyDirectoryOptions {
  kafka: Kafka;
  topicPrefix: string;
  pepper: string;
  serviceName: string;
  logger: Logger;
}

const KNOWN_SCOPES = new Set<string>(SCOPES);

export class KeyDirectory {
  private readonly keys = new Map<string, KnownKey>();
  private readonly waiters = new Map<string, Array<() => void>>();
  private consumer: Consumer | undefined;
  /** Per partition, the offset the copy must reach to be caught up (removed once reached). */
  private pending = new Map<number, bigint>();
  private caughtUp = false;
  /** Why the consumer stopped for good: the copy no longer follows revocations. */
  private failure: string | undefined;
  private readonly topic: string;

  readonly readinessCheck: ComponentCheck = {
    name: 'keys',
    check: async () => {
      if (this.failure) throw new Error(`no longer following the API keys topic: ${this.failure}`);
      if (!this.caughtUp) throw new Error('still reading the API keys topic');
    },
  };

  constructor(private readonly options: KeyDirectoryOptions) {
    this.topic = topicName(TOPICS.apiKeys, options.topicPrefix);
  }

  async start(): Promise<void> {
    const { kafka, serviceName } = this.options;
    const admin = kafka.admin();
    await admin.connect();
    try {
      for (const p of await fetchOffsets(admin, this.topic)) {
        if (BigInt(p.high) > BigInt(p.low)) this.pending.set(p.partition, BigInt(p.high));
      }
    } finally {
      await admin.disconnect();
    }
    this.caughtUp = this.pending.size === 0;
    // A group of this replica alone: every replica reads every partition. Nothing is committed, so
    // the group holds no offsets and disappears when the replica leaves.
    this.consumer = kafka.consumer({
      groupId: `llmops-keys.${serviceName}.${randomUUID()}`,
      maxWaitTimeInMs: 250,
      allowAutoTopicCreation: false,
    });
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      // kafkajs restarts the consumer after a retriable error; after any other, the copy is stale,
      // so the replica reports not ready instead of honouring revoked keys.
      if (!payload.restart) this.failure = payload.error.message;
      this.options.logger.error(
        { topic: this.topic, err: payload.error.message, restart: payload.restart },
        'the API keys consumer crashed',
      );
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        this.apply(message.key?.toString('utf8'), message.value);
        const target = this.pending.get(partition);
        if (target !== undefined && BigInt(message.offset) + 1n >= target) {
          this.pending.delete(partition);
          if (this.pending.size === 0) this.caughtUp = true;
        }
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    this.consumer = undefined;
  }

  /** Whether the directory holds a record of this key id (tests wait for their keys with `waitFor`). */
  has(keyId: string): boolean {
    return this.keys.has(keyId);
  }

  /** Resolves once a record of `keyId` has been read (rejects after `timeoutMs`). */
  waitFor(keyId: string, timeoutMs = 30_000): Promise<void> {
    if (this.keys.has(keyId)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`API key ${keyId} not seen within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const list = this.waiters.get(keyId) ?? [];
      list.push(() => {
        clearTimeout(timer);
        resolve();
      });
      this.waiters.set(keyId, list);
    });
  }

  /**
   * The principal of a presented key, or undefined for a malformed, unknown, revoked or expired key
   * or one of a deleted project: the caller answers the same 401 for all of them.
   */
  verify(presented: string, now = Date.now()): Principal | undefined {
    const parts = parseApiKey(presented);
    if (!parts) return undefined;
    const known = this.keys.get(parts.keyId);
    if (!known || known.dead || (known.expiresAt !== null && known.expiresAt <= now)) return undefined;
    return verifyKeySecret(parts.secret, this.options.pepper, known.secretHash) ? known.principal : undefined;
  }

  private apply(key: string | undefined, value: Buffer | null): void {
    if (value === null) {
      // A tombstone removes the key.
      if (key) this.keys.delete(key);
      return;
    }
    const parsed = safeParseEvent(value, { tolerateUnknownFields: true });
    if (!parsed.ok || parsed.event.type !== EVENT_TYPES.apiKeyUpdated) {
      this.options.logger.warn(
        {
          topic: this.topic,
          key,
          err: parsed.ok ? `unexpected type ${parsed.event.type}` : parsed.error.message,
        },
        'ignoring a record of the API keys topic that is not an API key snapshot',
      );
      return;
    }
    const record = parsed.event.data as KeyRecord;
    this.keys.set(record.keyId, toKnownKey(record));
    const waiting = this.waiters.get(record.keyId);
    if (waiting) {
      this.waiters.delete(record.keyId);
      for (const resolve of waiting) resolve();
    }
  }
}

/**
 * The topic's offsets. A topic created moments ago may not have settled its leaders yet ("not the
 * leader for that topic-partition"): retried for up to 30 s.
 */
async function fetchOffsets(
  admin: Admin,
  topic: string,
): Promise<Awaited<ReturnType<Admin['fetchTopicOffsets']>>> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await admin.fetchTopicOffsets(topic);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

function toKnownKey(record: KeyRecord): KnownKey {
  // Scopes a newer identity service may add are unknown here and grant nothing.
  const scopes = new Set(record.scopes.filter((s): s is Scope => KNOWN_SCOPES.has(s)));
  return {
    secretHash: record.secretHash,
    expiresAt: record.expiresAt ? Date.parse(record.expiresAt) : null,
    dead: record.revokedAt !== null || record.projectDeleted,
    principal: {
      keyId: record.keyId,
      project: record.project,
      scopes,
      ...(record.aliases ? { aliases: record.aliases } : {}),
    },
  };
}
