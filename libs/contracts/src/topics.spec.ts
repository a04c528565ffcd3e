import {
  ALL_EVENT_TYPES,
  API_KEYS_PARTITIONS,
  DEFAULT_PARTITIONS,
  DLQ_HEADERS,
  TOPIC_SPECS,
  topicName,
  TOPICS,
  TRACING_HEADERS,
  CLOUDEVENTS_CONTENT_TYPE,
} from './index';

describe('topics', () => {
  it('names and prefix', () => {
    expect(TOPICS).toEqual({
      promptVersions: 'llmops.prompt-versions.v1',
      promptAliases: 'llmops.prompt-aliases.v1',
      experiments: 'llmops.experiments.v1',
      exposures: 'llmops.exposures.v1',
      generations: 'llmops.generations.v1',
      feedback: 'llmops.feedback.v1',
      deadLetter: 'llmops.dead-letter.v1',
      apiKeys: 'llmops.identity.api-keys.v1',
      audit: 'llmops.audit.v1',
      datasetSnapshots: 'llmops.dataset-snapshots.v1',
      experimentDecisions: 'llmops.experiment-decisions.v1',
    });
    expect(topicName(TOPICS.feedback)).toBe('llmops.feedback.v1');
    expect(topicName(TOPICS.feedback, 't123.')).toBe('t123.llmops.feedback.v1');
  });

  it('specs cover every topic and every event type exactly once', () => {
    expect(TOPIC_SPECS.map((t) => t.name).sort()).toEqual(Object.values(TOPICS).sort());
    expect(TOPIC_SPECS.flatMap((t) => t.events).sort()).toEqual([...ALL_EVENT_TYPES].sort());
    expect(TOPIC_SPECS.filter((t) => t.compacted).map((t) => t.name)).toEqual([
      TOPICS.experiments,
      TOPICS.apiKeys,
    ]);
    for (const spec of TOPIC_SPECS) {
      expect(spec.partitions).toBe(spec.name === TOPICS.apiKeys ? API_KEYS_PARTITIONS : DEFAULT_PARTITIONS);
    }
    expect(API_KEYS_PARTITIONS).toBe(1);
  });

  it('generations and feedback are co-partitioned', () => {
    const gen = TOPIC_SPECS.find((t) => t.name === TOPICS.generations)!;
    const fb = TOPIC_SPECS.find((t) => t.name === TOPICS.feedback)!;
    expect(gen.partitions).toBe(fb.partitions);
    expect(gen.key.split(':')[0]).toBe(fb.key.split(':')[0]);
  });

  it('header names', () => {
    expect(TRACING_HEADERS).toMatchObject({
      correlationId: 'x-correlation-id',
      traceparent: 'traceparent',
      contentType: 'content-type',
    });
    expect(CLOUDEVENTS_CONTENT_TYPE).toBe('application/cloudevents+json');
    expect(Object.values(DLQ_HEADERS).sort()).toEqual(
      [
        'x-dlq-attempts',
        'x-dlq-consumer-group',
        'x-dlq-error',
        'x-dlq-original-offset',
        'x-dlq-original-partition',
        'x-dlq-original-topic',
      ].sort(),
    );
  });
});
