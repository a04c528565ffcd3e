import {
  EVENT_SOURCES,
  EVENT_TYPES,
  type GenerationLoggedData,
  partitionKeyFor,
  serializeEvent,
  trustedEvent,
} from '@llmops/contracts';
import type { Redactor } from '@llmops/platform';
import type { KeyedEvent } from '../ingestion/event-publisher';
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

const TYPE = EVENT_TYPES.generationLogged;

/**
 * Builds the `io.llmops.generation.logged.v1` event of a validated request of `project`. The
 * envelope is built by hand, without a second zod parse (the hot path of every logged LLM call):
 * the request schema IS the contract's data schema minus the server-set `receivedAt` (see
 * log-generation.request.ts), and redaction only rewrites strings the contract does not limit.
 * generation-event.spec.ts compares the result with the validating `createEvent` over many varied
 * requests, in the default project and another.
 */
export function buildGenerationEvent(
  req: LogGenerationRequest,
  receivedAt: string,
  redact: Redactor,
  project: string,
): KeyedEvent {
  const data: GenerationLoggedData = {
    ...redactGeneration(req, redact),
    timestamp: req.timestamp ?? receivedAt,
    receivedAt,
  };
  const event = trustedEvent(TYPE, data, {
    source: EVENT_SOURCES.feedback,
    id: generationEventId(req.requestId),
    time: data.timestamp,
    project,
  });
  return { key: partitionKeyFor(TYPE, data, project), event, value: serializeEvent(event) };
}
