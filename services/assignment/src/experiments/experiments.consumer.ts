/**
 * Keeps this replica's in-memory experiments current. At boot: every experiment from MongoDB,
 * then the compacted experiments topic from the beginning with a consumer group of this replica's
 * own (every replica must see every record; a shared group would split the partitions). Snapshots
 * are full, so applying "highest revision wins" in any order converges.
 */
import { randomUUID } from 'node:crypto';
import { EVENT_TYPES, projectOf, safeParseEvent, TOPICS, topicName } from '@llmops/contracts';
import {
  type ConsumedMessage,
  type KafkaBatchHandlerResult,
  LOGGER,
  type RejectedMessage,
  type ServiceConsumerOptions,
} from '@llmops/platform';
import { Controller, Inject, type OnApplicationBootstrap } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { Logger } from 'pino';
import type { AssignmentConfig } from '../config/assignment.config';
import { ExperimentStore } from './experiment-store';
import { experimentTopics } from './experiment-topics';
import { ExperimentRepository } from './persistence/experiment.repository';

/**
 * Applies one partition batch of experiment events, each to its project's experiments (the
 * envelope's `project`; absent = `default`); schema-invalid records are dead-lettered.
 */
export function applyExperimentMessages(
  store: ExperimentStore,
  messages: ConsumedMessage[],
): RejectedMessage[] {
  const rejected: RejectedMessage[] = [];
  for (const message of messages) {
    if (message.value === null) continue; // tombstone: experiments are never deleted today
    const parsed = safeParseEvent(message.value, { tolerateUnknownFields: true });
    if (!parsed.ok) {
      rejected.push({ message, error: parsed.error.message });
      continue;
    }
    const event = parsed.event;
    if (
      event.type === EVENT_TYPES.experimentCreated ||
      event.type === EVENT_TYPES.experimentUpdated ||
      event.type === EVENT_TYPES.experimentStatusChanged
    ) {
      const result = store.apply(projectOf(event), event.data.experiment, 'topic');
      if (typeof result === 'object')
        rejected.push({ message, error: `cannot apply snapshot: ${result.invalid}` });
    } else {
      rejected.push({ message, error: `unexpected event type ${event.type} on the experiments topic` });
    }
  }
  return rejected;
}

/** The transport id of the experiments consumer (the application has two consumers). */
export const EXPERIMENTS_CONSUMER = Symbol('assignment.experiments');

/** The consumer's options: a group of this replica's own, from the beginning of the compacted topic. */
export function experimentsConsumer(config: AssignmentConfig): ServiceConsumerOptions {
  const instance = config.INSTANCE_ID || randomUUID();
  return {
    transportId: EXPERIMENTS_CONSUMER,
    groupId: `${config.KAFKA_CLIENT_ID}.experiments.${instance}`,
    fromBeginning: true,
    topicPrefix: config.KAFKA_TOPIC_PREFIX,
    topics: experimentTopics(config),
    deadLetterTopic: topicName(TOPICS.deadLetter, config.KAFKA_TOPIC_PREFIX),
    // Lag with no commit for this long fails readiness (kafka-consumer:<group>) and sets the stall gauge.
    stallAfterMs: config.KAFKA_CONSUMER_STALL_SECONDS * 1_000,
  };
}

@Controller()
export class ExperimentsConsumer implements OnApplicationBootstrap {
  constructor(
    private readonly store: ExperimentStore,
    private readonly repository: ExperimentRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Runs before the consumer starts (the application's bootstrap precedes its microservices). */
  async onApplicationBootstrap(): Promise<void> {
    const records = await this.repository.findAll();
    for (const r of records) this.store.apply(r.project, r.snapshot, 'mongo');
    this.logger.info({ experiments: records.length }, 'experiments loaded from MongoDB');
  }

  @EventPattern(TOPICS.experiments, EXPERIMENTS_CONSUMER)
  experiments(@Payload() messages: ConsumedMessage[]): KafkaBatchHandlerResult {
    return { rejected: applyExperimentMessages(this.store, messages) };
  }
}
