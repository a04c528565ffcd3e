import { TOPICS, topicName } from '@llmops/contracts';
import {
  createRedactor,
  eventTime,
  KafkaUnavailableError,
  type Redactor,
  type RequestContext,
  SERVICE_CONFIG,
} from '@llmops/platform';
import { Inject, Injectable } from '@nestjs/common';
import type { FeedbackConfig } from '../config/feedback.config';
import { EventPublisher, type KeyedEvent } from '../ingestion/event-publisher';
import { checkEventSize, checkTextLimits } from '../ingestion/field-limits';
import { IngestionMetrics } from '../ingestion/ingestion.metrics';
import { ExperimentDirectory } from '../experiments/experiment-directory';
import { experimentNotFound, type ItemRejection, zodRejection } from '../ingestion/item-rejection';
import { logGenerationRequestSchema } from './dto/log-generation.request';
import { buildGenerationEvent } from './generation-event';

export type ItemOutcome = { ok: true; id: string } | { ok: false; rejection: ItemRejection };

/**
 * Validates each item (one naming an experiment needs it in the caller's project), publishes every
 * valid one in ONE producer send (one broker ack for the whole request) and reports per item.
 * Throws KafkaUnavailableError (503) when the broker does not ack: then nothing of the request is
 * promised.
 */
@Injectable()
export class LogGenerationsUseCase {
  private readonly topic: string;
  private readonly redact: Redactor;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: FeedbackConfig,
    private readonly publisher: EventPublisher,
    private readonly metrics: IngestionMetrics,
    private readonly experiments: ExperimentDirectory,
  ) {
    this.topic = topicName(TOPICS.generations, config.KAFKA_TOPIC_PREFIX);
    this.redact = createRedactor(config.FEEDBACK_REDACT_PII);
  }

  async execute(items: readonly unknown[], ctx: RequestContext, project: string): Promise<ItemOutcome[]> {
    const receivedAt = eventTime();
    const outcomes: ItemOutcome[] = [];
    const events: KeyedEvent[] = [];
    for (const item of items) {
      const prepared = this.prepare(item, receivedAt, project);
      if ('rejection' in prepared) {
        this.metrics.reject('generation', prepared.rejection.code);
        outcomes.push({ ok: false, rejection: prepared.rejection });
      } else {
        events.push(prepared.event);
        outcomes.push({ ok: true, id: prepared.id });
      }
    }
    try {
      await this.publisher.publish(this.topic, events, ctx);
    } catch (err) {
      if (err instanceof KafkaUnavailableError) this.metrics.publishFailed('generation');
      throw err;
    }
    this.metrics.accept('generation', 'accepted', events.length);
    return outcomes;
  }

  private prepare(
    item: unknown,
    receivedAt: string,
    project: string,
  ): { id: string; event: KeyedEvent } | { rejection: ItemRejection } {
    const parsed = logGenerationRequestSchema.safeParse(item);
    if (!parsed.success) return { rejection: zodRejection(parsed.error) };
    const req = parsed.data;
    const tooLarge = checkTextLimits([
      {
        path: 'output',
        value: req.output,
        limitBytes: this.config.FEEDBACK_MAX_OUTPUT_BYTES,
        envVar: 'FEEDBACK_MAX_OUTPUT_BYTES',
      },
    ]);
    if (tooLarge) return { rejection: tooLarge };
    const event = buildGenerationEvent(req, receivedAt, this.redact, project);
    const tooBig = checkEventSize(event.value, this.config.FEEDBACK_MAX_EVENT_BYTES);
    if (tooBig) return { rejection: tooBig };
    // Last, so that an item gets the same answer for its own faults in every project.
    if (req.experiment !== undefined && !this.experiments.has(project, req.experiment)) {
      return { rejection: experimentNotFound(req.experiment) };
    }
    return { id: req.requestId, event };
  }
}
