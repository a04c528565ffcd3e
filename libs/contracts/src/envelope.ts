import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import {
  EVENT_DATA_SCHEMAS,
  type EventDataInputMap,
  type EventDataMap,
  TOLERANT_EVENT_DATA_SCHEMAS,
} from './catalog';
import {
  CONTRACT_SCHEMA_METADATA,
  doc,
  isoDateTime,
  type SchemaKit,
  STRICT_KIT,
  TOLERANT_KIT,
} from './events/common.schema';
import { opaqueId, patterned, URI_REFERENCE_PATTERN } from './events/text.schema';
import { ALL_EVENT_TYPES, type EventType, isEventType } from './event-types';
import { DEFAULT_PROJECT, projectId } from './project';
import { ContractValidationError, fromZodIssues, type ContractIssue } from './validation-error';

/**
 * CloudEvents 1.0, structured mode, JSON: the Kafka record value is this object serialized as JSON
 * and the record carries `content-type: application/cloudevents+json`.
 *
 * - `id`: non-empty; producers use a UUIDv7 (default) or a deterministic id when a retry must produce
 *   the same id. Consumers dedupe by `id` (together with `source`).
 * - `type`: ends with the major version, e.g. `io.llmops.feedback.submitted.v1`.
 * - `dataschema`: `urn:llmops:schema:<type>`, e.g. `urn:llmops:schema:io.llmops.feedback.submitted.v1`;
 *   the JSON Schema with that `$id` is in `libs/contracts/schemas/<type>.json`.
 * - `time`: RFC 3339 timestamp of the occurrence.
 * - `source`: the producing service, e.g. `/llmops/registry` (see `EVENT_SOURCES`).
 * - `subject`: optional, free (producers may set the partition key).
 * - `project`: CloudEvents extension attribute, the project the event belongs to
 *   (`PROJECT_ID_PATTERN`). Optional in the schema so events written before projects existed stay
 *   valid; producers always set it; consumers read it with {@link projectOf} (absent = `default`).
 */
export interface CloudEvent<T extends EventType = EventType> {
  specversion: '1.0';
  id: string;
  source: string;
  type: T;
  time: string;
  datacontenttype: 'application/json';
  dataschema: string;
  subject?: string;
  project?: string;
  data: EventDataMap[T];
}

/** Discriminated union (on `type`) of every event in the catalog. */
export type AnyCloudEvent = { [T in EventType]: CloudEvent<T> }[EventType];

export const CLOUDEVENTS_SPEC_VERSION = '1.0';
export const DATA_CONTENT_TYPE = 'application/json';

/** `dataschema` URI of an event type. */
export function dataSchemaUri(type: EventType): string {
  return `urn:llmops:schema:${type}`;
}

/** CloudEvents `source`: a URI reference of 1 to 1024 visible ASCII characters. */
const eventSource = () =>
  patterned('a source URI-reference, e.g. /llmops/registry', URI_REFERENCE_PATTERN).max(1024, {
    error: 'expected at most 1024 characters',
  });

function envelopeShape<T extends EventType, D extends z.ZodType>(type: T, data: D) {
  return {
    specversion: z.literal(CLOUDEVENTS_SPEC_VERSION, { error: 'expected "1.0" (CloudEvents 1.0)' }),
    id: doc(opaqueId('event id', 512), 'Unique per event (UUIDv7 or deterministic); consumers dedupe by it.'),
    source: doc(eventSource(), 'Producing service, e.g. /llmops/registry.'),
    type: doc(
      z.literal(type, { error: `expected "${type}"` }),
      'Event type; the suffix is the major version.',
    ),
    time: isoDateTime(),
    datacontenttype: z.literal(DATA_CONTENT_TYPE, { error: `expected "${DATA_CONTENT_TYPE}"` }),
    dataschema: z.literal(dataSchemaUri(type), { error: `expected "${dataSchemaUri(type)}"` }),
    subject: opaqueId('subject', 1024).optional(),
    project: doc(
      projectId(),
      'CloudEvents extension attribute: the project of the event; absent = default.',
    ).optional(),
    data,
  };
}

function buildEnvelopeSchemas(k: SchemaKit, data: typeof EVENT_DATA_SCHEMAS): Record<EventType, z.ZodType> {
  const out: Partial<Record<EventType, z.ZodType>> = {};
  for (const type of ALL_EVENT_TYPES) {
    const schema = k.object(envelopeShape(type, data[type]));
    CONTRACT_SCHEMA_METADATA.add(schema, {
      title: type,
      description: `CloudEvents 1.0 structured-mode envelope carrying ${type} in \`data\`.`,
    });
    out[type] = schema;
  }
  return out as Record<EventType, z.ZodType>;
}

/** Strict zod schema of the whole envelope, per event type. */
export const ENVELOPE_SCHEMAS: Readonly<Record<EventType, z.ZodType>> = buildEnvelopeSchemas(
  STRICT_KIT,
  EVENT_DATA_SCHEMAS,
);
const TOLERANT_ENVELOPE_SCHEMAS = buildEnvelopeSchemas(TOLERANT_KIT, TOLERANT_EVENT_DATA_SCHEMAS);

/** Envelope without a known type: used to report envelope issues when the type is unknown. */
const GENERIC_ENVELOPE = z.object({
  specversion: z.literal(CLOUDEVENTS_SPEC_VERSION, { error: 'expected "1.0" (CloudEvents 1.0)' }),
  id: opaqueId('event id', 512),
  source: eventSource(),
  time: isoDateTime(),
  datacontenttype: z.literal(DATA_CONTENT_TYPE, { error: `expected "${DATA_CONTENT_TYPE}"` }),
});

export interface CreateEventOptions {
  /** CloudEvents source of the producer, e.g. `EVENT_SOURCES.registry` (`/llmops/registry`). */
  source: string;
  /** Defaults to a new UUIDv7. Pass a deterministic id to make retries idempotent. */
  id?: string;
  /** RFC 3339; defaults to now. A Date is converted with toISOString(). */
  time?: string | Date;
  subject?: string;
  /** The event's project (envelope extension attribute `project`). Producers always set it. */
  project?: string;
}

export interface ParseEventOptions {
  /**
   * Strip fields this version of the contracts does not know (envelope and data) instead of failing.
   * For consumers: a producer on a newer minor may add optional fields. Producers never set this.
   */
  tolerateUnknownFields?: boolean;
}

export type SafeParseEventResult =
  { ok: true; event: AnyCloudEvent } | { ok: false; error: ContractValidationError };

/**
 * Builds and validates an envelope. Throws `ContractValidationError` (paths from the envelope root,
 * e.g. `data.rating`) when `data` does not match the schema of `type`. The returned event has
 * defaults applied (e.g. feedback `ratingScale`).
 */
export function createEvent<T extends EventType>(
  type: T,
  data: EventDataInputMap[T],
  options: CreateEventOptions,
): CloudEvent<T> {
  if (!isEventType(type)) {
    throw new ContractValidationError([{ path: 'type', message: `unknown event type "${String(type)}"` }]);
  }
  const envelope = envelopeOf(type, data, options);
  const result = ENVELOPE_SCHEMAS[type].safeParse(envelope);
  if (!result.success) throw new ContractValidationError(fromZodIssues(result.error.issues, envelope));
  return result.data as CloudEvent<T>;
}

function envelopeOf<T extends EventType>(
  type: T,
  data: unknown,
  options: CreateEventOptions,
): Record<string, unknown> {
  const time =
    options.time instanceof Date ? options.time.toISOString() : (options.time ?? new Date().toISOString());
  const envelope: Record<string, unknown> = {
    specversion: CLOUDEVENTS_SPEC_VERSION,
    id: options.id ?? uuidv7(),
    source: options.source,
    type,
    time,
    datacontenttype: DATA_CONTENT_TYPE,
    dataschema: dataSchemaUri(type),
  };
  // `project` before `data`, in the schema's key order, so a project event serializes the same
  // whether it went through createEvent (zod output) or trustedEvent / envelopeWriter.
  if (options.project !== undefined) envelope.project = options.project;
  envelope.data = data;
  if (options.subject !== undefined) envelope.subject = options.subject;
  return envelope;
}

/**
 * The envelope `createEvent` builds, WITHOUT validating `data` (no zod parse, no defaults applied).
 * For hot paths whose input was already checked by a schema at least as strict as the contract, so
 * the second parse is pure cost. Every caller keeps a spec comparing
 * its output with `createEvent`'s, byte for byte, so the two cannot drift apart.
 */
export function trustedEvent<T extends EventType>(
  type: T,
  data: EventDataMap[T],
  options: CreateEventOptions,
): CloudEvent<T> {
  return envelopeOf(type, data, options) as unknown as CloudEvent<T>;
}

/**
 * The JSON text of `serializeEvent(trustedEvent(type, <data>, { source, id, time, project }))` for a
 * `data` whose JSON text the caller wrote itself: for hot paths that keep the constant part of their
 * events as precomputed JSON fragments instead of building and stringifying objects per event.
 * Byte for byte the same text (envelope.spec.ts); `dataJson` must be one JSON object. `project` is
 * written as given (not validated): pass a `PROJECT_ID_PATTERN` id, or omit it.
 */
export function envelopeWriter(
  type: EventType,
  source: string,
): (id: string, time: string, dataJson: string, project?: string) => string {
  const j = JSON.stringify;
  // The key order of envelopeOf's object.
  const head = `{"specversion":${j(CLOUDEVENTS_SPEC_VERSION)},"id":`;
  const middle = `,"source":${j(source)},"type":${j(type)},"time":`;
  const tail = `,"datacontenttype":${j(DATA_CONTENT_TYPE)},"dataschema":${j(dataSchemaUri(type))}`;
  return (id, time, dataJson, project) =>
    `${head}${j(id)}${middle}${j(time)}${tail}${project === undefined ? '' : `,"project":${j(project)}`},"data":${dataJson}}`;
}

/** The project of an event: its `project` extension attribute, `default` when absent. */
export function projectOf(event: { readonly project?: string }): string {
  return event.project ?? DEFAULT_PROJECT;
}

/** JSON text of an event (the Kafka record value). */
export function serializeEvent(event: AnyCloudEvent | CloudEvent): string {
  return JSON.stringify(event);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Validates an already-decoded JSON value as an event of the catalog. */
export function safeValidateEvent(value: unknown, options: ParseEventOptions = {}): SafeParseEventResult {
  const fail = (issues: ContractIssue[]): SafeParseEventResult => ({
    ok: false,
    error: new ContractValidationError(issues),
  });
  if (!isPlainObject(value)) {
    return fail([
      { path: '', message: 'expected a JSON object (a CloudEvents 1.0 structured-mode envelope)' },
    ]);
  }
  const type = value.type;
  if (!isEventType(type)) {
    const issues: ContractIssue[] = [
      type === undefined
        ? { path: 'type', message: 'required field missing (expected an event type)' }
        : {
            path: 'type',
            message: `unknown event type ${JSON.stringify(type)}; known: ${ALL_EVENT_TYPES.join(', ')}`,
          },
    ];
    const generic = GENERIC_ENVELOPE.safeParse(value);
    if (!generic.success) issues.push(...fromZodIssues(generic.error.issues, value));
    return fail(issues);
  }
  const schema = options.tolerateUnknownFields ? TOLERANT_ENVELOPE_SCHEMAS[type] : ENVELOPE_SCHEMAS[type];
  const result = schema.safeParse(value);
  if (!result.success) return fail(fromZodIssues(result.error.issues, value));
  return { ok: true, event: result.data as AnyCloudEvent };
}

export function validateEvent(value: unknown, options: ParseEventOptions = {}): AnyCloudEvent {
  const result = safeValidateEvent(value, options);
  if (!result.ok) throw result.error;
  return result.event;
}

/** Narrowing helper: `isEventOfType(event, EVENT_TYPES.feedbackSubmitted)`. */
export function isEventOfType<T extends EventType>(
  event: AnyCloudEvent,
  type: T,
): event is Extract<AnyCloudEvent, { type: T }> {
  return event.type === type;
}
