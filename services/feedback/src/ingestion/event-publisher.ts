import { CLOUDEVENTS_CONTENT_TYPE, type CloudEvent, HEADER_CONTENT_TYPE } from '@llmops/contracts';
import {
  BatchingProducer,
  contextHeaders,
  type OutgoingMessage,
  type RequestContext,
} from '@llmops/platform';
import { Injectable } from '@nestjs/common';

export interface KeyedEvent {
  key: string;
  event: CloudEvent;
  /** `serializeEvent(event)`, computed once (its size is checked before publishing). */
  value: string;
}

/**
 * Puts CloudEvents on a topic through the platform's micro-batching producer. All events of one
 * call go into ONE `send`, so they share one broker acknowledgement (acks -1): a batch request is
 * either acknowledged as a whole or refused as a whole (KafkaUnavailableError -> 503 + Retry-After).
 */
@Injectable()
export class EventPublisher {
  constructor(private readonly producer: BatchingProducer) {}

  /** The events carry `ctx` (the request's correlation id and traceparent) in their headers. */
  publish(topic: string, events: readonly KeyedEvent[], ctx: RequestContext): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    const headers = { ...contextHeaders(ctx), [HEADER_CONTENT_TYPE]: CLOUDEVENTS_CONTENT_TYPE };
    const messages: OutgoingMessage[] = events.map((e) => ({
      key: e.key,
      value: e.value,
      headers,
    }));
    return this.producer.send(topic, messages);
  }
}
