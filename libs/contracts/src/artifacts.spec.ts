import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Parser } from '@asyncapi/parser';
import {
  ALL_EVENT_TYPES,
  buildAsyncApiDocument,
  CONTRACTS_VERSION,
  createEvent,
  renderJsonSchemaFiles,
  serializeEvent,
  TOPICS,
  toJsonSchemas,
} from './index';
import { VALID_DATA } from '../test/support/fixtures';

const LIB_ROOT = join(__dirname, '..');
const REGENERATE = 'node -r @swc-node/register libs/contracts/scripts/write-asyncapi.ts';

type Json = Record<string, unknown>;

describe('AsyncAPI document', () => {
  const doc = buildAsyncApiDocument() as Json & {
    channels: Record<string, Json & { bindings: { kafka: Json } }>;
    operations: Record<string, Json>;
    components: { messages: Record<string, Json> };
  };

  it('is valid according to the official @asyncapi/parser', async () => {
    const diagnostics = await new Parser().validate(doc as never);
    const errors = diagnostics.filter((d) => d.severity === 0);
    if (errors.length > 0) {
      console.error(errors.map((d) => `${d.code} at ${d.path.join('.')}: ${d.message}`).join('\n'));
    }
    expect(errors).toEqual([]);
  });

  it('has the expected shape', () => {
    expect(doc.asyncapi).toBe('3.0.0');
    expect(doc.info).toMatchObject({
      version: CONTRACTS_VERSION,
      description: expect.stringContaining('Versioning rule'),
    });
    expect(doc.servers).toEqual({
      local: expect.objectContaining({ host: 'localhost:9092', protocol: 'kafka' }),
    });
    expect(
      Object.values(doc.channels)
        .map((c) => c.address)
        .sort(),
    ).toEqual(Object.values(TOPICS).sort());
    expect(doc.channels.experiments.bindings.kafka).toMatchObject({
      partitions: 6,
      topicConfiguration: { 'cleanup.policy': ['compact'] },
    });
    expect(doc.operations['registry.publishPromptVersionRegistered']).toMatchObject({ action: 'send' });
    const feedback = doc.components.messages.FeedbackSubmitted;
    expect(feedback).toMatchObject({
      contentType: 'application/cloudevents+json',
      bindings: { kafka: { key: { type: 'string', description: expect.stringContaining('requestId') } } },
    });
  });

  it(`committed asyncapi.json is up to date (else run: ${REGENERATE})`, () => {
    const committed: unknown = JSON.parse(readFileSync(join(LIB_ROOT, 'asyncapi.json'), 'utf8'));
    // Compare content, not text: the file is prettier-formatted.
    expect({ file: 'asyncapi.json', content: committed }).toEqual({
      file: 'asyncapi.json',
      content: JSON.parse(JSON.stringify(doc)),
    });
  });
});

describe('JSON Schemas', () => {
  it('one per type, draft 2020-12, strict', () => {
    const schemas = toJsonSchemas();
    expect(Object.keys(schemas).sort()).toEqual([...ALL_EVENT_TYPES].sort());
    for (const type of ALL_EVENT_TYPES) {
      expect(schemas[type]).toMatchObject({
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        $id: `urn:llmops:schema:${type}`,
        additionalProperties: false,
        properties: { type: { const: type }, data: { additionalProperties: false } },
      });
    }
  });

  it(`committed schemas/*.json are up to date (else run: ${REGENERATE})`, () => {
    const expected = renderJsonSchemaFiles();
    const dir = join(LIB_ROOT, 'schemas');
    expect(readdirSync(dir).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, content] of Object.entries(expected)) {
      const committed: unknown = JSON.parse(readFileSync(join(dir, name), 'utf8'));
      expect({ file: name, content: committed }).toEqual({ file: name, content: JSON.parse(content) });
    }
  });

  it('sample events satisfy the basic structure of their schema', () => {
    const schemas = toJsonSchemas();
    for (const type of ALL_EVENT_TYPES) {
      const event = JSON.parse(serializeEvent(createEvent(type, VALID_DATA[type], { source: '/t' }))) as Json;
      const schema = schemas[type] as { required: string[]; properties: { data: { required: string[] } } };
      for (const key of schema.required) expect(event).toHaveProperty([key]);
      for (const key of schema.properties.data.required) expect(event.data).toHaveProperty([key]);
    }
  });
});
