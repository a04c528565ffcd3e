/**
 * Experiments for tests, without the assignment service: `publishExperiments` writes experiment
 * snapshots to the namespace's experiments topic exactly as the assignment service does (same
 * event, same record key), which is all the feedback service reads of them.
 */
import {
  CLOUDEVENTS_CONTENT_TYPE,
  createEvent,
  DEFAULT_PROJECT,
  EVENT_SOURCES,
  EVENT_TYPES,
  HEADER_CONTENT_TYPE,
  partitionKeyFor,
  serializeEvent,
  TOPICS,
  topicName,
} from '@llmops/contracts';
import { Kafka, logLevel } from 'kafkajs';

export interface TestExperiment {
  key: string;
  /** Default: `default`. */
  project?: string;
}

/** The record the assignment service publishes when `experiment` is created. */
export function experimentRecord({ key, project = DEFAULT_PROJECT }: TestExperiment): {
  key: string;
  value: string;
} {
  const at = new Date().toISOString();
  const data = {
    experiment: {
      key,
      description: `test experiment ${key}`,
      status: 'running' as const,
      phase: 1,
      seed: `${key}:s1`,
      hashVersion: 1,
      trafficAllocation: 1,
      control: 'A',
      arms: [
        { name: 'A', weight: 1, prompt: { name: 'summarizer', ref: 'production', hash: 'a'.repeat(64) } },
        { name: 'B', weight: 1, prompt: { name: 'summarizer', ref: 'staging', hash: 'b'.repeat(64) } },
      ],
      revision: 1,
      createdAt: at,
      updatedAt: at,
    },
    changedAt: at,
  };
  const event = createEvent(EVENT_TYPES.experimentCreated, data, {
    source: EVENT_SOURCES.assignment,
    project,
  });
  return {
    key: partitionKeyFor(EVENT_TYPES.experimentCreated, event.data, project),
    value: serializeEvent(event),
  };
}

/** Publishes the experiments to the topic of `topicPrefix` (which must exist: the service creates it). */
export async function publishExperiments(
  kafkaBrokers: string,
  topicPrefix: string,
  experiments: readonly TestExperiment[],
): Promise<void> {
  if (experiments.length === 0) return;
  const kafka = new Kafka({
    brokers: kafkaBrokers.split(','),
    clientId: 'test-experiments',
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({
      topic: topicName(TOPICS.experiments, topicPrefix),
      acks: -1,
      messages: experiments.map((e) => ({
        ...experimentRecord(e),
        headers: { [HEADER_CONTENT_TYPE]: CLOUDEVENTS_CONTENT_TYPE },
      })),
    });
  } finally {
    await producer.disconnect();
  }
}
