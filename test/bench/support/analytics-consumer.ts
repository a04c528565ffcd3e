/**
 * The analytics consumer as the benchmarks run it: the service's ApplyBatchUseCase behind the
 * platform BatchConsumer, with the options the service gives its consumer (`aggregationConsumer` of
 * its default configuration: assigner, fetch size, attempts, concurrency), on the repositories of
 * `openPersistence`. The consumer benchmark runs one in its own process and two in worker processes
 * (analytics-consumer-worker.ts) for the scale-out figure.
 */
/* eslint-disable @nx/enforce-module-boundaries -- the benchmarks drive the service's use case
   in-process; benches are not product code. */
import { TOPICS, topicName } from '@llmops/contracts';
import {
  type BatchContext,
  BatchConsumer,
  type ConsumedMessage,
  coPartitionAssigner,
  consumerMetrics,
  createLogger,
} from '@llmops/platform';
import { AssignerProtocol, type Kafka, type PartitionAssigner } from 'kafkajs';
import { Registry } from 'prom-client';
import {
  ApplyBatchUseCase,
  type TopicRole,
} from '../../../services/analytics/src/aggregation/apply-batch.usecase';
import { aggregationConsumer } from '../../../services/analytics/src/aggregation/aggregation.consumer';
import { loadAnalyticsConfig } from '../../../services/analytics/src/config/analytics.config';
import { topicsFor } from '../../../services/analytics/test/support/scenario';
import type { openPersistence } from '../../../services/analytics/test/support/persistence';

export type Persistence = Awaited<ReturnType<typeof openPersistence>>;

export interface ConsumerSetup {
  kafka: Kafka;
  prefix: string;
  groupId: string;
  persistence: Persistence;
  /** The group's assigner (default: the service's, the co-partition assigner). */
  assigner?: PartitionAssigner;
  /** Runs before each handler call. */
  before?: (messages: ConsumedMessage[], ctx: BatchContext) => void;
  /** Runs after each handler call that succeeded; `started`: performance.now() at its start. */
  after?: (messages: ConsumedMessage[], ctx: BatchContext, started: number) => void;
}

/** Starts the consumer (its group joins and consumes); stop it with `consumer.stop()`. */
export async function startAnalyticsConsumer(s: ConsumerSetup): Promise<BatchConsumer> {
  const logger = createLogger('bench', 'warn');
  const ignore = (): undefined => undefined;
  const config = loadAnalyticsConfig({
    KAFKA_BROKERS: '127.0.0.1:9092',
    MONGODB_URI: 'mongodb://127.0.0.1:27017',
    KAFKA_TOPIC_PREFIX: s.prefix,
  });
  const useCase = new ApplyBatchUseCase(
    s.persistence.aggregation(),
    s.persistence.experiments,
    {
      event: ignore,
      commands: ignore,
      changed: ignore,
      requestsForgotten: ignore,
      requestsHeld: ignore,
    },
    logger,
    config,
  );
  const roleOf = new Map<string, TopicRole>([
    [topicName(TOPICS.exposures, s.prefix), 'exposures'],
    [topicName(TOPICS.generations, s.prefix), 'generations'],
    [topicName(TOPICS.feedback, s.prefix), 'feedback'],
    [topicName(TOPICS.experiments, s.prefix), 'experiments'],
  ]);
  const service = aggregationConsumer(config);
  if (!service) throw new Error('the analytics consumer is disabled by default');
  // What the service's KafkaBatchServer takes itself (topics from its handlers, prefix, transport).
  const { topics: _specs, topicPrefix: _prefix, transportId: _transport, ...options } = service;
  const consumer = new BatchConsumer(s.kafka, {
    ...options,
    groupId: s.groupId,
    topics: Object.values(topicsFor(s.prefix)),
    fromBeginning: true,
    deadLetterTopic: topicName(TOPICS.deadLetter, s.prefix),
    logger,
    metrics: consumerMetrics(new Registry()),
    consumerConfig: {
      ...options.consumerConfig,
      ...(s.assigner ? { partitionAssigners: [s.assigner] } : {}),
    },
    handler: async (messages, ctx) => {
      const started = performance.now();
      s.before?.(messages, ctx);
      const role = roleOf.get(ctx.topic);
      if (!role) throw new Error(`not an analytics topic: ${ctx.topic}`);
      const result = await useCase.execute({ role, partition: ctx.partition, messages });
      s.after?.(messages, ctx, started);
      return result;
    },
  });
  await consumer.start();
  return consumer;
}

/**
 * Counts the distinct records handled (per topic and partition, the offsets past the highest one
 * seen), so a batch delivered again after a failed commit or a rebalance is not counted twice.
 */
export class OffsetTally {
  private readonly highest = new Map<string, number>();
  distinct = 0;
  redelivered = 0;

  add(ctx: Pick<BatchContext, 'topic' | 'partition'>, messages: ConsumedMessage[]): void {
    const key = `${ctx.topic}:${ctx.partition}`;
    let high = this.highest.get(key) ?? -1;
    for (const m of messages) {
      const offset = Number(m.offset);
      if (offset > high) {
        high = offset;
        this.distinct++;
      } else {
        this.redelivered++;
      }
    }
    this.highest.set(key, high);
  }
}

/**
 * The co-partition assigner, assigning nothing until `members` members have joined: the replicas
 * of the scale-out measurement start consuming together, not one alone until the other joins.
 */
export function gatedCoPartitionAssigner(members: number): PartitionAssigner {
  return (config) => {
    const inner = coPartitionAssigner(config);
    return {
      ...inner,
      async assign(group) {
        if (group.members.length >= members) return inner.assign(group);
        return group.members.map(({ memberId }) => ({
          memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({
            version: 0,
            assignment: {},
            userData: Buffer.alloc(0),
          }),
        }));
      },
    };
  };
}

/** Per member of `groupId` (by client id): the partitions the group assigned it, per topic. */
export async function groupAssignment(
  kafka: Kafka,
  groupId: string,
): Promise<Array<{ clientId: string; partitions: Record<string, number[]> }>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([groupId]);
    return (groups[0]?.members ?? []).map((m) => ({
      clientId: m.clientId,
      partitions: AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment ?? {},
    }));
  } finally {
    await admin.disconnect();
  }
}
