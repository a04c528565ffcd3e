import { z } from 'zod';
import { CONTRACT_SCHEMA_METADATA } from './events/common.schema';
import { dataSchemaUri, ENVELOPE_SCHEMAS } from './envelope';
import { ALL_EVENT_TYPES, type EventType } from './event-types';

/** A JSON Schema document (plain JSON object). */
export type JsonSchemaDocument = { [key: string]: unknown };

export type JsonSchemaTarget = 'draft-2020-12' | 'draft-7';

/**
 * JSON Schema of the whole envelope of one event type, generated from the same zod schemas that
 * `createEvent` / `parseEvent` use. `$id` is the event's `dataschema` URI; the schema of `data` is
 * at `#/properties/data`.
 *
 * Not expressible in JSON Schema and only enforced by the zod schemas: cross-field rules (rating
 * within ratingScale, at least one feedback signal, edit vs revision, unique arm names, control and
 * forced arms exist, layer start < end).
 */
export function toJsonSchema(
  type: EventType,
  target: JsonSchemaTarget = 'draft-2020-12',
): JsonSchemaDocument {
  const schema = z.toJSONSchema(ENVELOPE_SCHEMAS[type], {
    target,
    io: 'output',
    metadata: CONTRACT_SCHEMA_METADATA,
    unrepresentable: 'throw',
  }) as JsonSchemaDocument;
  const { $schema, ...rest } = schema;
  return { $schema, $id: dataSchemaUri(type), ...rest };
}

/** type -> JSON Schema (draft 2020-12) of the whole envelope with that type's data. */
export function toJsonSchemas(): Record<EventType, JsonSchemaDocument> {
  const out: Partial<Record<EventType, JsonSchemaDocument>> = {};
  for (const type of ALL_EVENT_TYPES) out[type] = toJsonSchema(type);
  return out as Record<EventType, JsonSchemaDocument>;
}

/** File name of the committed JSON Schema of a type: `schemas/<type>.json`. */
export function jsonSchemaFileName(type: EventType): string {
  return `${type}.json`;
}

/** file name -> content of the committed `libs/contracts/schemas/*.json` (2-space JSON, trailing newline). */
export function renderJsonSchemaFiles(): Record<string, string> {
  const schemas = toJsonSchemas();
  const out: Record<string, string> = {};
  for (const type of ALL_EVENT_TYPES)
    out[jsonSchemaFileName(type)] = `${JSON.stringify(schemas[type], null, 2)}\n`;
  return out;
}
