/**
 * The wire side of the BatchingProducer on @platformatic/kafka instead of kafkajs.
 *
 * Why: producing is the largest single cost of the ingestion paths. kafkajs (2.2.4, the last
 * release, February 2023) encodes every record and every header into its own zero-filled 512-byte
 * buffer; in a CPU profile of `POST /v1/feedback/batch` its producer and those allocations were
 * the largest share of the service's main thread. @platformatic/kafka needs less CPU per record for
 * the same batches (acks -1, three headers, 520-byte values; see the root README, "Kafka clients").
 * kafkajs stays for the admin client and the consumers.
 *
 * Same records as before: key, value and headers as UTF-8 bytes, and the partition of a key is
 * Java's and kafkajs's default (murmur2 of the key, sign bit masked, modulo the partition count),
 * so a key's events stay on the partition they used before the switch.
 */
import { compatibilityPartitioner, ProduceAcks, Producer, type Serializer } from '@platformatic/kafka';
import type { Message } from 'kafkajs';
import type { SendBatchTransport } from './batching-producer';

export interface PlatformaticTransportOptions {
  brokers: string[];
  clientId: string;
  /** One send, retries included, is given up after this (the BatchingProducer's send timeout). */
  sendTimeoutMs: number;
}

/** Like the kafkajs client's settings (kafka-client.ts): a dead broker is noticed within seconds. */
const CONNECT_TIMEOUT_MS = 3_000;
const RETRIES = 3;
const RETRY_DELAY_MS = 250;

type Bytes = string | Buffer | null;

const bytes: Serializer<Bytes> = (value) =>
  value === null || value === undefined ? undefined : typeof value === 'string' ? Buffer.from(value) : value;

/**
 * Header names are a handful of constants (content type, correlation id, traceparent): their bytes
 * are made once. Bounded, so a producer that sends arbitrary names cannot grow it without end.
 */
const HEADER_KEY_CACHE_MAX = 64;
const headerKeys = new Map<string, Buffer>();

const headerKey: Serializer<string> = (key) => {
  if (key === undefined) return undefined;
  let encoded = headerKeys.get(key);
  if (!encoded) {
    encoded = Buffer.from(key);
    if (headerKeys.size < HEADER_KEY_CACHE_MAX) headerKeys.set(key, encoded);
  }
  return encoded;
};

export class PlatformaticTransport implements SendBatchTransport {
  private readonly producer: Producer<Bytes, Bytes, string, Bytes>;

  constructor(options: PlatformaticTransportOptions) {
    this.producer = new Producer({
      clientId: options.clientId,
      bootstrapBrokers: options.brokers,
      connectTimeout: CONNECT_TIMEOUT_MS,
      // Each attempt gets a share of the send timeout, so a send settles within it.
      timeout: Math.max(1_000, Math.floor(options.sendTimeoutMs / (RETRIES + 1))),
      requestTimeout: Math.max(1_000, Math.floor(options.sendTimeoutMs / (RETRIES + 1))),
      retries: RETRIES,
      retryDelay: RETRY_DELAY_MS,
      acks: ProduceAcks.ALL,
      autocreateTopics: false,
      partitioner: compatibilityPartitioner,
      serializers: {
        key: bytes,
        value: bytes,
        headerKey,
        headerValue: bytes,
      },
    });
  }

  async connect(): Promise<void> {
    // The client connects lazily; asking for the cluster's metadata proves the brokers are reachable.
    await this.probe([]);
  }

  async sendBatch(topicMessages: { topic: string; messages: Message[] }[]): Promise<void> {
    const messages = [];
    for (const { topic, messages: list } of topicMessages) {
      for (const m of list) {
        messages.push({
          topic,
          key: m.key ?? null,
          value: m.value,
          // The platform's headers are strings (content type, correlation id, traceparent).
          headers: m.headers as Record<string, Bytes> | undefined,
          partition: m.partition,
          timestamp: m.timestamp === undefined ? undefined : BigInt(m.timestamp),
        });
      }
    }
    await this.producer.send({ messages, acks: ProduceAcks.ALL });
  }

  async probe(topics: string[]): Promise<void> {
    // Never the cached metadata: the question is whether the brokers answer now.
    await this.producer.metadata({ topics, forceUpdate: true });
  }

  async disconnect(): Promise<void> {
    await this.producer.close();
  }
}
