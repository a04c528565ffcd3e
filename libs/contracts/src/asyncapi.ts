import { CONTRACTS_VERSION, EVENT_CATALOG } from './catalog';
import { ALL_EVENT_TYPES } from './event-types';
import { CLOUDEVENTS_CONTENT_TYPE, DLQ_HEADERS, TRACING_HEADERS } from './headers';
import { type JsonSchemaDocument, toJsonSchema } from './json-schema';
import { TOPIC_SPECS, TOPICS, type TopicKey } from './topics';

const KAFKA_BINDING_VERSION = '0.5.0';

export const ASYNCAPI_DESCRIPTION = [
  'Event catalog of the LLMOps experimentation platform (prompt registry, experiments, exposures,',
  'generations, feedback, API keys, audit trail, dataset snapshots, experiment decisions). Every Kafka record value is a CloudEvents 1.0 structured-mode JSON envelope',
  `(content-type \`${CLOUDEVENTS_CONTENT_TYPE}\`); headers \`${TRACING_HEADERS.correlationId}\` and W3C`,
  `\`${TRACING_HEADERS.traceparent}\` carry tracing.`,
  '',
  'Versioning rule: the event type and the topic name end with the major version (`.v1`). Within a',
  'major version only additive, optional fields are added; consumers must ignore fields they do not know',
  '(`parseEvent(raw, { tolerateUnknownFields: true })`). A breaking change creates a new type (`.v2`)',
  'and, if the key or partitioning changes, a new topic; both are published side by side during the migration.',
  '',
  'Projects: the envelope extension attribute `project` names the project of the event; it is optional and',
  'absent means `default` (`projectOf(event)`). The compacted experiments topic is keyed by the experiment key',
  'in project `default` and by `<project>/<experiment key>` in any other project, and so is the',
  'experiment-decisions topic; the dataset-snapshots topic likewise by the dataset name.',
  '',
  'Feedback edits: the same feedbackId with a higher revision REPLACES the earlier values; the same',
  'feedbackId and revision is a duplicate and is ignored.',
].join('\n');

type Json = { [key: string]: unknown };

/**
 * AsyncAPI refs resolve against the document root, so local `#/definitions/X` refs of the generated
 * JSON Schemas are rewritten to `#/components/schemas/X` and the definitions hoisted there.
 */
function hoistDefinitions(schema: JsonSchemaDocument, shared: Json): Json {
  const { definitions, $schema: _schema, $id: _id, ...rest } = schema;
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (value !== null && typeof value === 'object') {
      const out: Json = {};
      for (const [k, v] of Object.entries(value)) {
        out[k] =
          k === '$ref' && typeof v === 'string' && v.startsWith('#/definitions/')
            ? `#/components/schemas/${v.slice('#/definitions/'.length)}`
            : rewrite(v);
      }
      return out;
    }
    return value;
  };
  if (definitions && typeof definitions === 'object') {
    for (const [name, def] of Object.entries(definitions)) shared[name] = rewrite(def);
  }
  return rewrite(rest) as Json;
}

function channelId(key: TopicKey): string {
  return key;
}

/**
 * The AsyncAPI 3.0.0 document of the catalog: one channel per topic (address = base topic name),
 * one `send` operation per event type for its producing service, message payloads = JSON Schema
 * (draft-07, the JSON Schema dialect the AsyncAPI tooling validates) of the whole envelope.
 */
export function buildAsyncApiDocument(): Json {
  const topicKeys = Object.keys(TOPICS) as TopicKey[];
  const sharedSchemas: Json = {};
  const messages: Json = {};
  const channels: Json = {};
  const operations: Json = {};

  for (const key of topicKeys) {
    const name = TOPICS[key];
    const spec = TOPIC_SPECS.find((t) => t.name === name);
    if (!spec) throw new Error(`no TOPIC_SPECS entry for ${name}`);
    const channelMessages: Json = {};
    for (const type of spec.events) {
      const def = EVENT_CATALOG[type];
      channelMessages[def.messageName] = { $ref: `#/components/messages/${def.messageName}` };
    }
    const dlq = name === TOPICS.deadLetter;
    if (dlq) channelMessages.DeadLetter = { $ref: '#/components/messages/DeadLetter' };
    channels[channelId(key)] = {
      address: name,
      title: name,
      description: `Key: ${spec.key} Producer: ${spec.producer}. Consumers: ${spec.consumers.join(', ')}.`,
      messages: channelMessages,
      bindings: {
        kafka: {
          partitions: spec.partitions,
          topicConfiguration: { 'cleanup.policy': [spec.compacted ? 'compact' : 'delete'] },
          bindingVersion: KAFKA_BINDING_VERSION,
        },
      },
    };
  }

  const headersSchema = (extra: Json = {}): Json => ({
    type: 'object',
    properties: {
      [TRACING_HEADERS.contentType]: {
        type: 'string',
        description: `\`${CLOUDEVENTS_CONTENT_TYPE}\` for events.`,
      },
      [TRACING_HEADERS.correlationId]: {
        type: 'string',
        description: 'Correlation id propagated end to end.',
      },
      [TRACING_HEADERS.traceparent]: { type: 'string', description: 'W3C Trace Context traceparent.' },
      ...extra,
    },
  });

  for (const type of ALL_EVENT_TYPES) {
    const def = EVENT_CATALOG[type];
    messages[def.messageName] = {
      name: def.messageName,
      title: type,
      summary: def.summary,
      contentType: CLOUDEVENTS_CONTENT_TYPE,
      headers: headersSchema(),
      payload: hoistDefinitions(toJsonSchema(type, 'draft-7'), sharedSchemas),
      bindings: {
        kafka: {
          key: { type: 'string', description: def.keyDescription },
          bindingVersion: KAFKA_BINDING_VERSION,
        },
      },
    };
    const topicKey = topicKeys.find((k) => TOPICS[k] === def.topic);
    if (!topicKey) throw new Error(`no topic ${def.topic}`);
    operations[def.operationId] = {
      action: 'send',
      title: `${def.producer} publishes ${type}`,
      summary: def.summary,
      channel: { $ref: `#/channels/${channelId(topicKey)}` },
      messages: [{ $ref: `#/channels/${channelId(topicKey)}/messages/${def.messageName}` }],
    };
  }

  messages.DeadLetter = {
    name: 'DeadLetter',
    title: 'Dead letter',
    summary:
      'A record a consumer gave up on: original key, value (bytes, usually a CloudEvent) and headers, plus x-dlq-* headers.',
    contentType: 'application/octet-stream',
    headers: headersSchema({
      [DLQ_HEADERS.error]: { type: 'string', description: 'Last error (class and message).' },
      [DLQ_HEADERS.originalTopic]: { type: 'string', description: 'Topic the record was read from.' },
      [DLQ_HEADERS.originalPartition]: { type: 'string', description: 'Partition, decimal.' },
      [DLQ_HEADERS.originalOffset]: { type: 'string', description: 'Offset, decimal.' },
      [DLQ_HEADERS.attempts]: { type: 'string', description: 'Processing attempts, decimal.' },
      [DLQ_HEADERS.consumerGroup]: { type: 'string', description: 'Consumer group that failed.' },
    }),
    payload: { description: 'The original record value, unchanged (may be malformed).' },
    bindings: {
      kafka: {
        key: { type: 'string', description: 'The original record key, unchanged.' },
        bindingVersion: KAFKA_BINDING_VERSION,
      },
    },
  };
  operations['anyConsumer.publishDeadLetter'] = {
    action: 'send',
    title: 'Any consumer dead-letters a record',
    channel: { $ref: `#/channels/${channelId('deadLetter')}` },
    messages: [{ $ref: `#/channels/${channelId('deadLetter')}/messages/DeadLetter` }],
  };

  return {
    asyncapi: '3.0.0',
    id: 'urn:llmops:contracts',
    info: {
      title: 'LLMOps platform events (@llmops/contracts)',
      version: CONTRACTS_VERSION,
      description: ASYNCAPI_DESCRIPTION,
    },
    defaultContentType: CLOUDEVENTS_CONTENT_TYPE,
    servers: {
      local: {
        host: 'localhost:9092',
        protocol: 'kafka',
        description: 'Local development broker (deploy/local).',
      },
    },
    channels,
    operations,
    components: { schemas: sharedSchemas, messages },
  };
}

/** The document as committed in `libs/contracts/asyncapi.json` (2-space JSON, trailing newline). */
export function renderAsyncApiJson(): string {
  return `${JSON.stringify(buildAsyncApiDocument(), null, 2)}\n`;
}
