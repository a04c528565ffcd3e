/**
 * The local launcher formats each Kafka data dir with a cluster id derived from the component's
 * name. A base64url id can start with '-', which Kafka's StorageTool reads as an option, so a
 * dedicated broker whose name hashed that way could never start: CI failed once on
 * `kafka-assignment-t4bbc10feea7d` (about one random test-run id in 64).
 */
import { kafkaClusterId } from '@llmops/local-infra';
import { type DedicatedKafka, startDedicatedKafka } from '@llmops/testing';
import { Kafka, logLevel } from 'kafkajs';

// sha256('kafka-assignment-t4bbc10feea7d') in base64url starts with '-'.
const NAME_WITH_DASH_ID = 'assignment-t4bbc10feea7d';

describe('Kafka cluster ids of the local launcher', () => {
  it('never start with "-", are 22 base64url characters and stay the same per name', () => {
    const ids = Array.from({ length: 2_000 }, (_, i) => kafkaClusterId(`kafka-test-${i}`));
    ids.push(kafkaClusterId(`kafka-${NAME_WITH_DASH_ID}`));
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    }
    expect(kafkaClusterId(`kafka-${NAME_WITH_DASH_ID}`)).toBe(kafkaClusterId(`kafka-${NAME_WITH_DASH_ID}`));
    expect(new Set(ids).size).toBe(ids.length);
  });

  describe('a dedicated broker whose name used to hash to an id starting with "-"', () => {
    let kafka: DedicatedKafka | undefined;
    afterAll(async () => {
      await kafka?.destroy();
    });

    it('is formatted, starts and answers', async () => {
      kafka = await startDedicatedKafka(NAME_WITH_DASH_ID);
      const admin = new Kafka({
        brokers: [kafka.brokers],
        clientId: 'cluster-id-test',
        logLevel: logLevel.NOTHING,
      }).admin();
      await admin.connect();
      try {
        const { clusterId } = await admin.describeCluster();
        expect(clusterId).toBe(kafkaClusterId(`kafka-${NAME_WITH_DASH_ID}`));
      } finally {
        await admin.disconnect();
      }
    });
  });
});
