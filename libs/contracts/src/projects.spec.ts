import { z } from 'zod';
import {
  ALL_EVENT_TYPES,
  ContractValidationError,
  createEvent,
  dataSchemaUri,
  DEFAULT_PROJECT,
  EVENT_TYPES,
  type EventType,
  experimentTopicKey,
  isProjectId,
  parseEvent,
  partitionKeyFor,
  PROJECT_ID_PATTERN,
  projectId,
  projectOf,
  safeParseEvent,
  serializeEvent,
  TOLERANT_EVENT_DATA_SCHEMAS,
  toJsonSchemas,
} from './index';
import { VALID_DATA } from '../test/support/fixtures';
import envelopeBeforeProjects from '../test/support/envelope-1.0.0.schema.json';

const source = '/llmops/test';
const options = { source, id: 'evt-1', time: '2025-03-01T10:00:00.000Z' };

describe('project ids', () => {
  const valid = ['default', 'ab', 'a1', '0a', 'checkout-team', 'team-', `a${'b'.repeat(62)}`];
  const invalid = ['', 'a', 'A1', 'Team', '-ab', 'a_b', 'a.b', 'a/b', ' ab', 'ab\n', `a${'b'.repeat(63)}`];

  it.each(valid)('%j is a project id', (id) => {
    expect(isProjectId(id)).toBe(true);
    expect(PROJECT_ID_PATTERN.test(id)).toBe(true);
    expect(projectId().safeParse(id).success).toBe(true);
  });

  it.each(invalid)('%j is not', (id) => {
    expect(isProjectId(id)).toBe(false);
    const result = projectId().safeParse(id);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0].message).toBe(
      `expected a project id matching ${PROJECT_ID_PATTERN.source}`,
    );
  });

  it('rejects non-strings; the default project is a valid id', () => {
    for (const v of [undefined, null, 42, ['ab'], { id: 'ab' }]) expect(isProjectId(v)).toBe(false);
    expect(DEFAULT_PROJECT).toBe('default');
    expect(isProjectId(DEFAULT_PROJECT)).toBe(true);
  });
});

describe('envelope attribute project', () => {
  it.each(ALL_EVENT_TYPES)('%s: set at the top level, kept by a round trip, read by projectOf', (type) => {
    const event = createEvent(type, VALID_DATA[type], { ...options, project: 'checkout-team' });
    const raw = serializeEvent(event);
    expect(JSON.parse(raw)).toHaveProperty('project', 'checkout-team');
    expect(parseEvent(raw)).toEqual(event);
    expect(projectOf(parseEvent(raw))).toBe('checkout-team');
  });

  it('absent when not given: the event belongs to the default project', () => {
    const event = createEvent(EVENT_TYPES.exposure, VALID_DATA[EVENT_TYPES.exposure], options);
    expect(event).not.toHaveProperty('project');
    expect(serializeEvent(event)).not.toContain('"project"');
    expect(projectOf(event)).toBe(DEFAULT_PROJECT);
    expect(projectOf(parseEvent(serializeEvent(event)))).toBe('default');
  });

  it('is validated like any envelope field, also by tolerant consumers', () => {
    const data = VALID_DATA[EVENT_TYPES.exposure];
    expect(() => createEvent(EVENT_TYPES.exposure, data, { ...options, project: 'Checkout' })).toThrow(
      ContractValidationError,
    );
    const raw = JSON.stringify({
      ...JSON.parse(serializeEvent(createEvent(EVENT_TYPES.exposure, data, options))),
      project: 'a/b',
    });
    for (const tolerateUnknownFields of [false, true]) {
      const result = safeParseEvent(raw, { tolerateUnknownFields });
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.error.issues).toEqual([
          { path: 'project', message: `expected a project id matching ${PROJECT_ID_PATTERN.source}` },
        ]);
      }
    }
  });
});

describe('consumers built against the envelope before projects', () => {
  // The envelope a consumer on contracts 1.0.0 parses: built from the committed copy of its JSON
  // Schema, with that version's tolerant semantics (unknown fields stripped, data included).
  const before = envelopeBeforeProjects as {
    required: string[];
    properties: Record<string, Record<string, unknown>>;
  };
  function previousEnvelope(type: EventType, strict: boolean): z.ZodType {
    const shape: Record<string, z.ZodType> = {
      type: z.literal(type),
      dataschema: z.literal(dataSchemaUri(type)),
      data: TOLERANT_EVENT_DATA_SCHEMAS[type],
    };
    for (const [name, schema] of Object.entries(before.properties)) {
      const field = z.fromJSONSchema(schema as never);
      shape[name] = before.required.includes(name) ? field : field.optional();
    }
    return strict ? z.strictObject(shape) : z.object(shape);
  }

  it.each(ALL_EVENT_TYPES)('%s with a project parses with tolerateUnknownFields', (type) => {
    const current = createEvent(type, VALID_DATA[type], { ...options, project: 'checkout-team' });
    const raw: unknown = JSON.parse(serializeEvent(current));
    const parsed = previousEnvelope(type, false).safeParse(raw);
    expect(parsed.error).toBeUndefined();
    const { project: _project, ...withoutProject } = current;
    expect(parsed.data).toEqual(withoutProject);
    // What tolerateUnknownFields is for: a strict consumer on that version refuses the new field.
    const strict = previousEnvelope(type, true).safeParse(raw);
    expect(strict.error?.issues).toEqual([
      expect.objectContaining({ code: 'unrecognized_keys', keys: ['project'] }),
    ]);
  });

  it.each(ALL_EVENT_TYPES)('%s written before projects parses strictly and belongs to default', (type) => {
    const old = createEvent(type, VALID_DATA[type], options);
    const raw: unknown = JSON.parse(serializeEvent(old));
    expect(previousEnvelope(type, true).safeParse(raw).success).toBe(true);
    expect(projectOf(parseEvent(JSON.stringify(raw)))).toBe(DEFAULT_PROJECT);
  });

  it('the JSON Schemas only add the optional attribute project to that envelope', () => {
    for (const [type, schema] of Object.entries(toJsonSchemas())) {
      const { required, properties } = schema as {
        required: string[];
        properties: Record<string, unknown>;
      };
      expect({ type, required }).toEqual({ type, required: before.required });
      expect({ type, names: Object.keys(properties).sort() }).toEqual({
        type,
        names: [...Object.keys(before.properties), 'type', 'dataschema', 'data', 'project'].sort(),
      });
      for (const [name, definition] of Object.entries(before.properties)) {
        expect({ type, name, definition: properties[name] }).toEqual({ type, name, definition });
      }
      expect(properties.project).toMatchObject({ type: 'string', pattern: PROJECT_ID_PATTERN.source });
    }
  });
});

describe('experiments topic key', () => {
  it('is the experiment key in the default project, <project>/<key> in any other', () => {
    expect(experimentTopicKey('checkout-copy.v2')).toBe('checkout-copy.v2');
    expect(experimentTopicKey('checkout-copy.v2', DEFAULT_PROJECT)).toBe('checkout-copy.v2');
    expect(experimentTopicKey('checkout-copy.v2', 'team-a')).toBe('team-a/checkout-copy.v2');
    for (const type of [
      EVENT_TYPES.experimentCreated,
      EVENT_TYPES.experimentUpdated,
      EVENT_TYPES.experimentStatusChanged,
    ]) {
      const d = createEvent(type, VALID_DATA[type], options).data;
      expect(partitionKeyFor(type, d)).toBe('checkout-copy.v2');
      expect(partitionKeyFor(type, d, 'default')).toBe('checkout-copy.v2');
      expect(partitionKeyFor(type, d, 'team-a')).toBe('team-a/checkout-copy.v2');
    }
  });

  it("two projects' experiments with the same key never share a topic key", () => {
    const data = createEvent(
      EVENT_TYPES.experimentUpdated,
      VALID_DATA[EVENT_TYPES.experimentUpdated],
      options,
    ).data;
    const keys = ['default', 'team-a', 'team-b'].map((p) =>
      partitionKeyFor(EVENT_TYPES.experimentUpdated, data, p),
    );
    expect(new Set(keys).size).toBe(3);
  });

  it('other topics keep their keys', () => {
    // The dataset-snapshots topic is keyed by project from its start (see dataset-events.spec.ts).
    const keyedByProject = (t: string) =>
      t.startsWith('io.llmops.experiment.') || t === EVENT_TYPES.datasetSnapshotCreated;
    for (const type of ALL_EVENT_TYPES.filter((t) => !keyedByProject(t))) {
      const d = createEvent(type, VALID_DATA[type], options).data;
      expect(partitionKeyFor(type, d, 'team-a')).toBe(partitionKeyFor(type, d));
    }
  });
});
