import {
  ALL_EVENT_TYPES,
  ContractValidationError,
  createEvent,
  dataSchemaUri,
  envelopeWriter,
  EVENT_CATALOG,
  EVENT_TYPES,
  type EventType,
  parseEvent,
  partitionKeyFor,
  safeParseEvent,
  serializeEvent,
  topicForEventType,
  TOPICS,
  trustedEvent,
  validateEvent,
} from './index';
import { v7 as uuidv7 } from 'uuid';
import { VALID_DATA } from '../test/support/fixtures';

const source = '/llmops/test';

function valid(type: EventType): Record<string, unknown> {
  const event = createEvent(type, VALID_DATA[type], {
    source,
    id: 'evt-1',
    time: '2025-03-01T10:00:00.000Z',
  });
  return JSON.parse(serializeEvent(event)) as Record<string, unknown>;
}

function feedbackWith(patch: Record<string, unknown>, drop: string[] = []): Record<string, unknown> {
  const env = valid(EVENT_TYPES.feedbackSubmitted);
  const data = { ...(env.data as Record<string, unknown>), ...patch };
  for (const k of drop) delete data[k];
  return { ...env, data };
}

function issuesOf(value: unknown): Array<{ path: string; message: string }> {
  const result = safeParseEvent(typeof value === 'string' ? value : JSON.stringify(value));
  if (result.ok) throw new Error('expected a validation failure');
  expect(result.error).toBeInstanceOf(ContractValidationError);
  return result.error.issues;
}

describe('round trip', () => {
  it.each(ALL_EVENT_TYPES)('%s: create -> serialize -> parse keeps envelope and data', (type) => {
    const created = createEvent(type, VALID_DATA[type], { source, subject: 'sub-1' });
    expect(created).toMatchObject({
      specversion: '1.0',
      type,
      source,
      subject: 'sub-1',
      datacontenttype: 'application/json',
      dataschema: dataSchemaUri(type),
    });
    expect(created.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Number.isNaN(Date.parse(created.time))).toBe(false);
    const raw = serializeEvent(created);
    expect(parseEvent(raw)).toEqual(created);
    expect(parseEvent(Buffer.from(raw, 'utf8'))).toEqual(created);
    expect(created.data).toEqual(VALID_DATA[type]);
  });

  it('every type has a topic and a partition key', () => {
    for (const type of ALL_EVENT_TYPES) {
      expect(Object.values(TOPICS)).toContain(topicForEventType(type));
      const event = createEvent(type, VALID_DATA[type], { source });
      expect(partitionKeyFor(type, event.data)).toEqual(expect.any(String));
      expect(EVENT_CATALOG[type].type).toBe(type);
    }
    const exposure = createEvent(EVENT_TYPES.exposure, VALID_DATA[EVENT_TYPES.exposure], { source });
    expect(partitionKeyFor(EVENT_TYPES.exposure, exposure.data)).toBe('checkout-copy.v2:user-42');
    const generation = createEvent(EVENT_TYPES.generationLogged, VALID_DATA[EVENT_TYPES.generationLogged], {
      source,
    });
    const feedback = createEvent(EVENT_TYPES.feedbackSubmitted, VALID_DATA[EVENT_TYPES.feedbackSubmitted], {
      source,
    });
    expect(partitionKeyFor(EVENT_TYPES.feedbackSubmitted, feedback.data)).toBe(
      partitionKeyFor(EVENT_TYPES.generationLogged, generation.data),
    );
  });

  it('narrows data by type', () => {
    const event = parseEvent(
      serializeEvent(
        createEvent(EVENT_TYPES.feedbackSubmitted, VALID_DATA[EVENT_TYPES.feedbackSubmitted], { source }),
      ),
    );
    if (event.type !== EVENT_TYPES.feedbackSubmitted) throw new Error('wrong type');
    expect(event.data.ratingScale).toEqual({ min: 1, max: 5 });
  });

  it('defaults ratingScale to 1..5 and accepts a Date for time', () => {
    const { ratingScale: _scale, ...rest } = VALID_DATA[EVENT_TYPES.feedbackSubmitted];
    const event = createEvent(EVENT_TYPES.feedbackSubmitted, rest, {
      source,
      time: new Date('2025-01-01T00:00:00Z'),
    });
    expect(event.data.ratingScale).toEqual({ min: 1, max: 5 });
    expect(event.time).toBe('2025-01-01T00:00:00.000Z');
  });
});

describe('path-level errors', () => {
  it('rating outside the scale', () => {
    const issues = issuesOf(feedbackWith({ rating: 7 }));
    expect(issues).toEqual([{ path: 'data.rating', message: 'expected integer 1..5' }]);
    const error = (() => {
      try {
        parseEvent(JSON.stringify(feedbackWith({ rating: 7 })));
      } catch (e) {
        return e as ContractValidationError;
      }
      throw new Error('no error');
    })();
    expect(error.message).toBe('data.rating: expected integer 1..5');
  });

  it('rating uses the actual scale and must be an integer', () => {
    expect(issuesOf(feedbackWith({ rating: 11, ratingScale: { min: 0, max: 10 } }))).toEqual([
      { path: 'data.rating', message: 'expected integer 0..10' },
    ]);
    expect(issuesOf(feedbackWith({ rating: 3.5 }))).toEqual([
      { path: 'data.rating', message: 'expected integer 1..5' },
    ]);
    expect(() =>
      createEvent(
        EVENT_TYPES.feedbackSubmitted,
        { ...VALID_DATA[EVENT_TYPES.feedbackSubmitted], rating: 0 },
        { source },
      ),
    ).toThrow('data.rating: expected integer 1..5');
  });

  it('unknown field in data names the field', () => {
    const issues = issuesOf(feedbackWith({ stars: 5 }));
    expect(issues).toEqual([{ path: 'data.stars', message: expect.stringContaining('unknown field') }]);
  });

  it('unknown nested field names the full path', () => {
    const env = valid(EVENT_TYPES.generationLogged);
    const data = env.data as { usage: Record<string, unknown> };
    data.usage.cachedTokens = 3;
    expect(issuesOf(env).map((i) => i.path)).toEqual(['data.usage.cachedTokens']);
  });

  it('wrong envelope specversion', () => {
    expect(issuesOf({ ...valid(EVENT_TYPES.exposure), specversion: '0.3' })).toEqual([
      { path: 'specversion', message: expect.stringContaining('1.0') },
    ]);
  });

  it('wrong dataschema and missing id', () => {
    const env: Record<string, unknown> = { ...valid(EVENT_TYPES.exposure), dataschema: 'urn:other' };
    delete env.id;
    const paths = issuesOf(env).map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['dataschema', 'id']));
    expect(issuesOf(env).find((i) => i.path === 'id')?.message).toMatch(/required/);
  });

  it('malformed JSON', () => {
    expect(issuesOf('{"specversion": "1.0",')).toEqual([
      { path: '', message: expect.stringMatching(/^malformed JSON/) },
    ]);
    expect(issuesOf('[]')).toEqual([
      { path: '', message: expect.stringContaining('expected a JSON object') },
    ]);
    expect(() => parseEvent('not json')).toThrow(ContractValidationError);
  });

  it('unknown type', () => {
    const issues = issuesOf({ ...valid(EVENT_TYPES.exposure), type: 'io.llmops.exposure.v9' });
    expect(issues).toEqual([
      { path: 'type', message: expect.stringContaining('unknown event type "io.llmops.exposure.v9"') },
    ]);
  });

  it('feedback without any signal', () => {
    const issues = issuesOf(feedbackWith({ scores: {} }, ['rating', 'thumbs', 'comment', 'correction']));
    expect(issues).toEqual([{ path: 'data', message: expect.stringContaining('at least one signal') }]);
    // a non-empty scores map alone is a signal
    expect(
      safeParseEvent(
        JSON.stringify(feedbackWith({ scores: { relevance: 1 } }, ['rating', 'thumbs', 'comment'])),
      ).ok,
    ).toBe(true);
  });

  it('non-finite score and bad score names', () => {
    const data = {
      ...VALID_DATA[EVENT_TYPES.feedbackSubmitted],
      scores: { relevance: Number.POSITIVE_INFINITY },
    };
    expect(() => createEvent(EVENT_TYPES.feedbackSubmitted, data, { source })).toThrow(
      'data.scores.relevance: expected a finite number',
    );
    expect(issuesOf(feedbackWith({ scores: { 'has space': 1 } }))[0].path).toBe('data.scores.has space');
    expect(issuesOf(feedbackWith({ scores: { relevance: 'high' } }))).toEqual([
      { path: 'data.scores.relevance', message: expect.stringContaining('finite number') },
    ]);
  });

  it('negative latency and token counts', () => {
    const env = valid(EVENT_TYPES.generationLogged);
    const data = env.data as Record<string, unknown>;
    data.latencyMs = -1;
    data.usage = { promptTokens: 1.5, completionTokens: -2 };
    expect(issuesOf(env)).toEqual([
      { path: 'data.latencyMs', message: 'expected a finite number between 0 and 86400000' },
      { path: 'data.usage.promptTokens', message: 'expected an integer between 0 and 10000000' },
      { path: 'data.usage.completionTokens', message: 'expected an integer between 0 and 10000000' },
    ]);
  });

  it('message role inside the input union', () => {
    const env = valid(EVENT_TYPES.generationLogged);
    (env.data as { input: Array<{ role: string }> }).input[0].role = 'bot';
    expect(issuesOf(env)).toEqual([
      { path: 'data.input.0.role', message: 'expected one of system, user, assistant, tool' },
    ]);
  });

  it('missing required field says so', () => {
    expect(issuesOf(feedbackWith({}, ['requestId']))).toEqual([
      { path: 'data.requestId', message: expect.stringMatching(/^required field missing/) },
    ]);
  });

  it('hash format, edit/revision rules', () => {
    const env = valid(EVENT_TYPES.promptAliasMoved);
    (env.data as Record<string, unknown>).to = 'ABC';
    expect(issuesOf(env)).toEqual([{ path: 'data.to', message: 'expected 64 lowercase hex characters' }]);
    expect(issuesOf(feedbackWith({ revision: 2 }))).toEqual([
      { path: 'data.edit', message: expect.stringContaining('previousRevision') },
    ]);
    expect(issuesOf(feedbackWith({ revision: 2, edit: { previousRevision: 2 } }))[0].path).toBe(
      'data.edit.previousRevision',
    );
    expect(
      safeParseEvent(JSON.stringify(feedbackWith({ revision: 2, edit: { previousRevision: 1 } }))).ok,
    ).toBe(true);
  });

  it('experiment snapshot rules', () => {
    const env = valid(EVENT_TYPES.experimentUpdated);
    const exp = (env.data as { experiment: Record<string, unknown> }).experiment;
    exp.key = 'Bad Key';
    exp.trafficAllocation = 0;
    exp.control = 'missing';
    exp.arms = [
      { name: 'a', weight: 1, prompt: { name: 'p', ref: 'r', hash: 'a'.repeat(64) } },
      { name: 'a', weight: 1, prompt: { name: 'p', ref: 'r', hash: 'a'.repeat(64) } },
    ];
    exp.layer = { name: 'l', range: [0.5, 0.5] };
    const paths = issuesOf(env).map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'data.experiment.key',
        'data.experiment.trafficAllocation',
        'data.experiment.arms.1.name',
        'data.experiment.layer.range',
      ]),
    );
    exp.key = 'ok';
    exp.trafficAllocation = 1;
    exp.arms = [
      { name: 'a', weight: 1, prompt: { name: 'p', ref: 'r', hash: 'a'.repeat(64) } },
      { name: 'b', weight: 0, prompt: { name: 'p', ref: 'r', hash: 'a'.repeat(64) } },
    ];
    exp.layer = { name: 'l', range: [0, 1] };
    exp.forced = { u1: 'zzz' };
    expect(issuesOf(env).map((i) => i.path)).toEqual([
      'data.experiment.control',
      'data.experiment.forced.u1',
    ]);
  });

  it('error message joins every issue', () => {
    const result = safeParseEvent(
      JSON.stringify({ ...feedbackWith({ rating: 9, extra: 1 }), specversion: '2' }),
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.message.split('; ')).toHaveLength(result.error.issues.length);
    expect(result.error.message).toContain('data.rating: expected integer 1..5');
  });
});

describe('tolerateUnknownFields', () => {
  const withExtras = (): Record<string, unknown> => {
    const env = feedbackWith({
      sentiment: 'positive',
      ratingScale: { min: 1, max: 5, labels: ['bad', 'good'] },
    });
    return { ...env, partitionkey: 'req-1' };
  };

  it('strict parsing rejects unknown fields in envelope and data', () => {
    expect(
      issuesOf(withExtras())
        .map((i) => i.path)
        .sort(),
    ).toEqual(['data.ratingScale.labels', 'data.sentiment', 'partitionkey']);
  });

  it('tolerant parsing strips them and keeps the known fields', () => {
    const event = parseEvent(JSON.stringify(withExtras()), { tolerateUnknownFields: true });
    expect(event).toEqual(valid(EVENT_TYPES.feedbackSubmitted));
    expect(event).not.toHaveProperty('partitionkey');
    expect(event.data).not.toHaveProperty('sentiment');
  });

  it('still rejects invalid known fields', () => {
    const result = safeParseEvent(JSON.stringify(feedbackWith({ rating: 7, newThing: true })), {
      tolerateUnknownFields: true,
    });
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.error.issues).toEqual([{ path: 'data.rating', message: 'expected integer 1..5' }]);
  });

  it('strips in nested arrays and union branches', () => {
    const env = valid(EVENT_TYPES.experimentUpdated);
    const exp = (
      env.data as {
        experiment: { arms: Array<Record<string, unknown>>; targeting: Array<Record<string, unknown>> };
      }
    ).experiment;
    exp.arms[0].color = 'red';
    exp.targeting[0].caseSensitive = true;
    const event = parseEvent(JSON.stringify(env), { tolerateUnknownFields: true });
    expect(event).toEqual(valid(EVENT_TYPES.experimentUpdated));
  });
});

describe('trustedEvent', () => {
  it.each(ALL_EVENT_TYPES)(
    'builds the same envelope as createEvent for valid %s data, without parsing',
    (type) => {
      const options = { source, id: 'evt-1', time: '2025-03-01T10:00:00.000Z' };
      const reference = createEvent(type, VALID_DATA[type], options);
      const trusted = trustedEvent(type, reference.data, options);
      expect(trusted).toEqual(reference);
      expect(validateEvent(JSON.parse(serializeEvent(trusted)))).toEqual(reference);
    },
  );

  it.each(ALL_EVENT_TYPES)(
    'with a project: the same envelope and the same JSON text as createEvent for %s',
    (type) => {
      const options = { source, id: 'evt-1', time: '2025-03-01T10:00:00.000Z', project: 'checkout-team' };
      const reference = createEvent(type, VALID_DATA[type], options);
      const trusted = trustedEvent(type, reference.data, options);
      expect(trusted).toEqual(reference);
      expect(serializeEvent(trusted)).toBe(serializeEvent(reference));
      expect(validateEvent(JSON.parse(serializeEvent(trusted)))).toEqual(reference);
    },
  );

  it("does not validate: checking the data is the caller's job (and its spec's)", () => {
    const bad = { ...VALID_DATA[EVENT_TYPES.feedbackSubmitted], rating: 99 } as never;
    expect(() => trustedEvent(EVENT_TYPES.feedbackSubmitted, bad, { source })).not.toThrow();
    expect(() => createEvent(EVENT_TYPES.feedbackSubmitted, bad, { source })).toThrow(
      ContractValidationError,
    );
  });
});

describe('envelopeWriter', () => {
  it.each(ALL_EVENT_TYPES)('writes the same text as serializeEvent(trustedEvent(...)) for %s', (type) => {
    const data = VALID_DATA[type] as never;
    for (const [id, time, src] of [
      ['evt-1', '2025-03-01T10:00:00.000Z', source],
      [uuidv7(), new Date().toISOString(), '/llmops/assignment'],
      ['id "quoted" \\ and \u2028 ünï', '2025-03-01T10:00:00.123Z', '/llmops/x?y="z"'],
    ]) {
      const reference = serializeEvent(trustedEvent(type, data, { source: src, id, time }));
      expect(envelopeWriter(type, src)(id, time, JSON.stringify(data))).toBe(reference);
      for (const project of ['default', 'checkout-team']) {
        const withProject = serializeEvent(trustedEvent(type, data, { source: src, id, time, project }));
        expect(envelopeWriter(type, src)(id, time, JSON.stringify(data), project)).toBe(withProject);
      }
    }
  });
});
