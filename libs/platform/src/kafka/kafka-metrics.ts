import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { getOrCreateMetric } from '../metrics/get-or-create';

export interface ProducerMetrics {
  batchSize: Histogram<string>;
  flushSeconds: Histogram<string>;
  failures: Counter<'reason'>;
}

export interface ConsumerMetrics {
  lag: Gauge<'group' | 'topic' | 'partition'>;
  processed: Counter<'group' | 'topic' | 'outcome'>;
  deadLettered: Counter<'group' | 'topic'>;
  batchSeconds: Histogram<'group'>;
  restarts: Counter<'group'>;
  groupJoins: Counter<'group'>;
  stalled: Gauge<'group'>;
  idleSeconds: Gauge<'group'>;
}

export function producerMetrics(registry: Registry): ProducerMetrics {
  return {
    batchSize: getOrCreateMetric(
      registry,
      'llmops_producer_batch_size_messages',
      () =>
        new Histogram({
          name: 'llmops_producer_batch_size_messages',
          help: 'Messages per acknowledged Kafka batch sent by the micro-batching producer',
          buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000],
          registers: [registry],
        }),
    ),
    flushSeconds: getOrCreateMetric(
      registry,
      'llmops_producer_flush_duration_seconds',
      () =>
        new Histogram({
          name: 'llmops_producer_flush_duration_seconds',
          help: 'Time from dispatch to broker acknowledgement (acks=-1) of one producer batch',
          buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
          registers: [registry],
        }),
    ),
    failures: getOrCreateMetric(
      registry,
      'llmops_producer_failures_total',
      () =>
        new Counter({
          name: 'llmops_producer_failures_total',
          help: 'Producer batches that were not acknowledged, by reason (send_error, timeout)',
          labelNames: ['reason'],
          registers: [registry],
        }),
    ),
  };
}

export function consumerMetrics(registry: Registry): ConsumerMetrics {
  return {
    lag: getOrCreateMetric(
      registry,
      'llmops_consumer_lag_messages',
      () =>
        new Gauge({
          name: 'llmops_consumer_lag_messages',
          help: 'Messages between the committed position and the partition high watermark',
          labelNames: ['group', 'topic', 'partition'],
          registers: [registry],
        }),
    ),
    processed: getOrCreateMetric(
      registry,
      'llmops_consumer_messages_total',
      () =>
        new Counter({
          name: 'llmops_consumer_messages_total',
          help: 'Messages handled by the consumer base, by outcome (ok, dead_lettered)',
          labelNames: ['group', 'topic', 'outcome'],
          registers: [registry],
        }),
    ),
    deadLettered: getOrCreateMetric(
      registry,
      'llmops_dead_letter_messages_total',
      () =>
        new Counter({
          name: 'llmops_dead_letter_messages_total',
          help: 'Messages sent to the dead-letter topic after exhausting retries',
          labelNames: ['group', 'topic'],
          registers: [registry],
        }),
    ),
    batchSeconds: getOrCreateMetric(
      registry,
      'llmops_consumer_batch_duration_seconds',
      () =>
        new Histogram({
          name: 'llmops_consumer_batch_duration_seconds',
          help: 'Time to process and commit one consumed batch',
          labelNames: ['group'],
          buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
          registers: [registry],
        }),
    ),
    restarts: getOrCreateMetric(
      registry,
      'llmops_consumer_restarts_total',
      () =>
        new Counter({
          name: 'llmops_consumer_restarts_total',
          help: 'Consumer restarts after a crash',
          labelNames: ['group'],
          registers: [registry],
        }),
    ),
    groupJoins: getOrCreateMetric(
      registry,
      'llmops_consumer_group_joins_total',
      () =>
        new Counter({
          name: 'llmops_consumer_group_joins_total',
          help: 'Times the consumer (re)joined its group: more than one per start means it fell out of the group',
          labelNames: ['group'],
          registers: [registry],
        }),
    ),
    stalled: getOrCreateMetric(
      registry,
      'llmops_consumer_stalled',
      () =>
        new Gauge({
          name: 'llmops_consumer_stalled',
          help: '1 while the group has lag and nothing was committed for KAFKA_CONSUMER_STALL_SECONDS, else 0',
          labelNames: ['group'],
          registers: [registry],
        }),
    ),
    idleSeconds: getOrCreateMetric(
      registry,
      'llmops_consumer_idle_seconds',
      () =>
        new Gauge({
          name: 'llmops_consumer_idle_seconds',
          help: 'Seconds since the group last committed while it has lag (0 when caught up)',
          labelNames: ['group'],
          registers: [registry],
        }),
    ),
  };
}
