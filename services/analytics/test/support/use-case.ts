/**
 * The aggregation use case driven directly, without Kafka: built on a persistence as the service
 * builds it, recording what it reports, and the records handed to it as the platform consumer hands
 * them over.
 */
import { type ConsumedMessage, createLogger } from '@llmops/platform';
import { ApplyBatchUseCase } from '../../src/aggregation/apply-batch.usecase';
import { type AnalyticsConfig, loadAnalyticsConfig } from '../../src/config/analytics.config';
import type { openPersistence } from './persistence';
import type { Produced } from './scenario';

/** `p` as the platform consumer hands it to a handler: record `offset` of `partition`. */
export function consumedMessage(p: Produced, partition: number, offset: number): ConsumedMessage {
  return {
    topic: p.topic,
    partition,
    offset: String(offset),
    key: Buffer.from(p.key),
    value: Buffer.from(p.value),
    headers: {},
    timestamp: String(Date.now()),
  };
}

/**
 * A use case on `persistence` with the service's configuration (`env` on top of its defaults),
 * recording the feedback outcomes it reports in order, its outcome counts per `type:outcome`, and
 * the requests it held after its last batch and forgot so far.
 */
export function recordingUseCase(
  persistence: Pick<Awaited<ReturnType<typeof openPersistence>>, 'aggregation' | 'experiments'>,
  name: string,
  env: Partial<Record<keyof AnalyticsConfig, string>> = {},
) {
  const feedback: string[] = [];
  const counts = new Map<string, number>();
  const requests = { held: 0, forgotten: 0 };
  const ignore = (): undefined => undefined;
  const useCase = new ApplyBatchUseCase(
    persistence.aggregation(),
    persistence.experiments,
    {
      event: (type, outcome, n = 1) => {
        counts.set(`${type}:${outcome}`, (counts.get(`${type}:${outcome}`) ?? 0) + n);
        if (type === 'feedback') for (let i = 0; i < n; i++) feedback.push(outcome);
      },
      commands: ignore,
      changed: ignore,
      requestsForgotten: (n) => {
        requests.forgotten += n;
      },
      requestsHeld: (n) => {
        requests.held = n;
      },
    },
    createLogger(name, 'warn'),
    loadAnalyticsConfig(env),
  );
  return { useCase, feedback, counts, requests };
}
