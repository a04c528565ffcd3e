/**
 * Applies one consumed partition batch: parse every record, reject poison in memory (the platform
 * dead-letters it with the reason), skip events older than the retention horizon, then one unordered
 * bulk write of the examples' upserts (merged to one per example) and one of the alias moves. Every
 * write is an unconditional, idempotent, commutative upsert, so a batch consumed again after a
 * crash, a rebalance or a replay leaves examples that read the same (same generation, same latest
 * revisions, same firstSeenAt): no reads, no cached state, no offsets stored beside the data.
 */
import { Inject, Injectable } from '@nestjs/common';
import {
  type AnyCloudEvent,
  EVENT_TYPES,
  type EventType,
  projectOf,
  safeParseEvent,
} from '@llmops/contracts';
import {
  type ConsumedMessage,
  describeFailure,
  type RejectedMessage,
  SERVICE_CONFIG,
} from '@llmops/platform';
import type { DatasetsConfig } from '../config/datasets.config';
import { DAY_MS } from '../domain/util';
import { DatasetsMetrics } from '../metrics/datasets-metrics';
import { AliasRepository, promptAliasId } from '../persistence/alias.repository';
import type { PromptAliasDoc } from '../persistence/datasets.schemas';
import { type ExampleUpsert, ExampleWriter } from '../persistence/example-writer';
import { feedbackUpsert, generationUpsert, mergeUpserts } from './example-upserts';

/** The topic a batch was consumed from. */
export type MaterializationTopic = 'generations' | 'feedback' | 'aliases';

const EXPECTED: Record<MaterializationTopic, { type: EventType; label: string }> = {
  generations: { type: EVENT_TYPES.generationLogged, label: 'generation' },
  feedback: { type: EVENT_TYPES.feedbackSubmitted, label: 'feedback' },
  aliases: { type: EVENT_TYPES.promptAliasMoved, label: 'alias' },
};

@Injectable()
export class MaterializeBatchUseCase {
  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: DatasetsConfig,
    private readonly examples: ExampleWriter,
    private readonly aliases: AliasRepository,
    private readonly metrics: DatasetsMetrics,
  ) {}

  async execute(
    topic: MaterializationTopic,
    messages: ConsumedMessage[],
  ): Promise<{ rejected: RejectedMessage[] }> {
    const { type, label } = EXPECTED[topic];
    const rejected: RejectedMessage[] = [];
    const upserts: ExampleUpsert[] = [];
    // The last move of each alias in the batch (moves of one prompt share a partition, in order).
    const moves = new Map<string, Omit<PromptAliasDoc, '_id'>>();
    const horizon = Date.now() - this.config.DATASETS_RETENTION_DAYS * DAY_MS;
    let expired = 0;
    for (const message of messages) {
      let event: AnyCloudEvent;
      try {
        if (!message.value) throw new Error('empty record value');
        const result = safeParseEvent(message.value, { tolerateUnknownFields: true });
        if (!result.ok) throw result.error;
        event = result.event;
      } catch (err) {
        rejected.push({ message, error: describeFailure(err) });
        continue;
      }
      if (event.type !== type) {
        rejected.push({ message, error: `unexpected event type ${event.type} on this topic` });
        continue;
      }
      const project = projectOf(event);
      if (event.type === EVENT_TYPES.promptAliasMoved) {
        const { name, alias, to, toVersion } = event.data;
        moves.set(promptAliasId(project, name, alias), {
          project,
          name,
          alias,
          hash: to,
          version: toVersion,
        });
      } else if (
        event.type === EVENT_TYPES.generationLogged ||
        event.type === EVENT_TYPES.feedbackSubmitted
      ) {
        if (Date.parse(event.data.receivedAt) < horizon) expired++;
        else if (event.type === EVENT_TYPES.generationLogged)
          upserts.push(generationUpsert(project, event.data));
        else upserts.push(feedbackUpsert(project, event.data));
      }
    }
    await this.examples.upsert(mergeUpserts(upserts));
    await this.aliases.move([...moves.values()]);
    const applied = messages.length - rejected.length - expired;
    if (applied > 0) this.metrics.events.inc({ type: label, outcome: 'applied' }, applied);
    if (expired > 0) this.metrics.events.inc({ type: label, outcome: 'expired' }, expired);
    if (rejected.length > 0)
      this.metrics.events.inc({ type: 'invalid', outcome: 'invalid' }, rejected.length);
    return { rejected };
  }
}
