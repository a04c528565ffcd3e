import { PATTERN_METADATA } from '@nestjs/microservices/constants';
import { TOPICS } from '@llmops/contracts';
import { loadAnalyticsConfig } from '../config/analytics.config';
import { AggregationConsumer, aggregationConsumer, CONSUMED_TOPICS } from './aggregation.consumer';

/** The topics of the consumer's @EventPattern handlers, as Nest reads them. */
function handledTopics(): string[] {
  const proto = AggregationConsumer.prototype as unknown as Record<string, unknown>;
  return Object.getOwnPropertyNames(proto).flatMap(
    (name) => (Reflect.getMetadata(PATTERN_METADATA, proto[name] as object) as string[] | undefined) ?? [],
  );
}

describe('aggregation consumer options', () => {
  it('lists exactly the topics its handlers consume', () => {
    expect([...CONSUMED_TOPICS].sort()).toEqual(handledTopics().sort());
  });

  it.each([
    ['1', 6],
    ['6', 6],
    ['12', 12],
  ])('hands over every batch of a fetch at once (KAFKA_TOPIC_PARTITIONS=%s)', (configured, partitions) => {
    const options = aggregationConsumer(loadAnalyticsConfig({ KAFKA_TOPIC_PARTITIONS: configured }));
    // One batch per consumed topic and partition the service creates.
    const created = options?.topics?.find((t) => t.name.endsWith(CONSUMED_TOPICS[0]))?.partitions;
    expect(created).toBe(partitions);
    expect(options?.partitionsConsumedConcurrently).toBe(handledTopics().length * partitions);
  });

  it("orders a lane by the deployment's topic names: generations before feedback", () => {
    const options = aggregationConsumer(loadAnalyticsConfig({ KAFKA_TOPIC_PREFIX: 'stage.' }));
    const order = options?.laneOrder ?? [];
    // Every consumed topic, as the consumer subscribes to it (with the prefix).
    expect([...order].sort()).toEqual(
      handledTopics()
        .map((t) => `stage.${t}`)
        .sort(),
    );
    expect(order.indexOf(`stage.${TOPICS.generations}`)).toBeLessThan(
      order.indexOf(`stage.${TOPICS.feedback}`),
    );
  });
});
