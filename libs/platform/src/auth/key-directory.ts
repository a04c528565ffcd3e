/**
 * The API keys every service verifies locally: an in-memory copy of the compacted `apiKeys` topic,
 * which the identity service fills with one full snapshot per key and change. Every replica reads
 * the whole topic from the beginning in a group of its own (nothing committed), then follows it, so
 * a revocation reaches every replica within the consumer's fetch wait. A request costs one map
 * lookup and one HMAC, with no network call.
 *
 * Readiness (`keys`) turns up once the copy has reached the high watermarks the topic had at start
 * (before that, a valid key could still answer 401), and turns down while the copy has not heard from
 * the broker for `STALE_AFTER_MS` (it may then miss revocations). A revoked key, or a key of a deleted
 * project, stays dead in the copy whatever older snapshot is read again (a re-read from the earliest
 * offset after a rebalance, or an older snapshot not yet compacted away).
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

/** A copy that has not completed a fetch for this long reports not ready. */
export const STALE_AFTER_MS = 10_000;
/** Pause before a consumer that stopped for good is replaced. */
const RESTART_DELAY_MS = 1_000;
/** What an unknown or dead key's secret is checked against, so every presented key costs one HMAC. */
const NO_HASH = 'A'.repeat(43);

export class KeyDirectory {
  private readonly keys = new Map<string, KnownKey>();
  private readonly waiters = new Map<string, Array<() => void>>();
  private consumer: Consumer | undefined;
  /** Per partition, the offset the copy must reach to be caught up (removed once reached). */
  private pending = new Map<number, bigint>();
  private caughtUp = false;
  /** Why the consumer stopped for good (until its replacement runs). */
  private failure: string | undefined;
  private lastFetchAt = 0;
  private stopped = false;
  private readonly topic: string;

  readonly readinessCheck: ComponentCheck = {
    name: 'keys',
    check: async () => {
      if (this.failure) throw new Error(`not following the API keys topic: ${this.failure}`);
      if (!this.caughtUp) throw new Error('still reading the API keys topic');
      const silentMs = Date.now() - this.lastFetchAt;
      if (silentMs > STALE_AFTER_MS) {
        throw new Error(`no fetch from the API keys topic for ${silentMs} ms; revocations may be missed`);
      }
    },
  };

  constructor(private readonly options: KeyDirectoryOptions) {
    this.topic = topicName(TOPICS.apiKeys, options.topicPrefix);
  }

  async start(): Promise<void> {
    const { kafka } = this.options;
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
    this.lastFetchAt = Date.now();
    await this.follow();
  }

  /** Starts a consumer that reads the topic from the beginning and follows it. */
  private async follow(): Promise<void> {
    const { kafka, serviceName } = this.options;
    // A group of this replica alone: every replica reads every partition. Nothing is committed, so
    // the group holds no offsets and disappears when the replica leaves.
    const consumer = kafka.consumer({
      groupId: `llmops-keys.${serviceName}.${randomUUID()}`,
      maxWaitTimeInMs: 250,
      allowAutoTopicCreation: false,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.FETCH, () => {
      this.lastFetchAt = Date.now();
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.options.logger.error(
        { topic: this.topic, err: payload.error.message, restart: payload.restart },
        'the API keys consumer crashed',
      );
      // kafkajs restarts the consumer after a retriable error; after any other, a new consumer
      // replaces it, and readiness is down meanwhile.
      if (!payload.restart && !this.stopped) {
        this.failure = payload.error.message;
        setTimeout(() => void this.replace(consumer), RESTART_DELAY_MS).unref();
      }
    });
    await consumer.connect();
    await consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await consumer.run({
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

  private async replace(crashed: Consumer): Promise<void> {
    if (this.stopped || this.consumer !== crashed) return;
    await crashed.disconnect().catch(() => undefined);
    try {
      await this.follow();
      this.failure = undefined;
    } catch (err) {
      this.failure = err instanceof Error ? err.message : String(err);
      this.options.logger.error(
        { topic: this.topic, err: this.failure },
        'could not restart the API keys consumer',
      );
      setTimeout(() => void this.replace(this.consumer ?? crashed), RESTART_DELAY_MS).unref();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer?.disconnect();
    this.consumer = undefined;
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
    const usable = known !== undefined && !known.dead && (known.expiresAt === null || known.expiresAt > now);
    // One HMAC whatever the key id, so the answer's timing does not tell whether it exists.
    const matches = verifyKeySecret(parts.secret, this.options.pepper, usable ? known.secretHash : NO_HASH);
    return usable && matches ? known.principal : undefined;
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
    // Never resurrected: a snapshot older than the revocation may be read after it.
    if (!this.keys.get(record.keyId)?.dead) this.keys.set(record.keyId, toKnownKey(record));
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
