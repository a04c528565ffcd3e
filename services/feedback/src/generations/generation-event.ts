import {
  type CloudEvent,
  createEvent,
  EVENT_SOURCES,
  EVENT_TYPES,
  type GenerationLoggedData,
  partitionKeyFor,
  serializeEvent,
} from '@llmops/contracts';
import type { KeyedEvent } from '../ingestion/event-publisher';
import type { Redactor } from '../ingestion/redaction';
import type { LogGenerationRequest } from './dto/log-generation.request';

/**
 * Deterministic event id: a client retry of the same `requestId` produces the same CloudEvent id,
 * which is what downstream deduplication keys on (the first stored copy wins).
 */
export function generationEventId(requestId: string): string {
  return `gen:${requestId}`;
}

export function redactGeneration(req: LogGenerationRequest, redact: Redactor): LogGenerationRequest {
  const input =
    req.input === undefined
      ? undefined
      : typeof req.input === 'string'
        ? redact(req.input)
        : req.input.map((m) => ({ ...m, content: redact(m.content) }));
  return { ...req, output: redact(req.output), ...(input !== undefined ? { input } : {}) };
}

/** Builds (and validates against the contract) the `io.llmops.generation.logged.v1` event. */
export function buildGenerationEvent(
  req: LogGenerationRequest,
  receivedAt: string,
  redact: Redactor,
): KeyedEvent {
  const data: GenerationLoggedData = {
    ...redactGeneration(req, redact),
    timestamp: req.timestamp ?? receivedAt,
    receivedAt,
  };
  const event: CloudEvent = createEvent(EVENT_TYPES.generationLogged, data, {
    source: EVENT_SOURCES.feedback,
    id: generationEventId(req.requestId),
    time: data.timestamp,
  });
  return { key: partitionKeyFor(EVENT_TYPES.generationLogged, data), event, value: serializeEvent(event) };
}
