import {
  ALL_EVENT_TYPES,
  ARM_WEIGHT_MAX,
  COST_USD_MAX,
  createEvent,
  EVENT_TYPES,
  type EventType,
  LATENCY_MS_MAX,
  parseEvent,
  RATING_ABS_MAX,
  safeParseEvent,
  SCORE_ABS_MAX,
  SCORE_NAME_PATTERN,
  serializeEvent,
  TOKEN_COUNT_MAX,
  toJsonSchema,
  USER_ID_MAX_LENGTH,
  isOpaqueId,
  opaqueId,
} from './index';
import { VALID_DATA } from '../test/support/fixtures';

const source = '/llmops/test';
type Json = Record<string, unknown>;

function envelope(type: EventType): Json {
  const event = createEvent(type, VALID_DATA[type], { source, id: 'evt-1', time: '2025-03-01T10:00:00Z' });
  return JSON.parse(serializeEvent(event)) as Json;
}

/** The issues of parsing `value` as a consumer would (JSON text, strict or tolerant). */
function issuesOf(value: unknown, tolerateUnknownFields = false): Array<{ path: string; message: string }> {
  const result = safeParseEvent(JSON.stringify(value), { tolerateUnknownFields });
  return result.ok ? [] : result.error.issues;
}

/** The distinct paths of `issues` (an integer out of range may fail two checks at one path). */
function pathsOf(issues: Array<{ path: string }>): string[] {
  return [...new Set(issues.map((i) => i.path))];
}

function withData(type: EventType, patch: (data: Json) => void): Json {
  const env = envelope(type);
  patch(env.data as Json);
  return env;
}

/** Every string leaf of `value` with its path (dotted, as the contract's issues write it). */
function stringLeaves(value: unknown, path: string[] = []): string[][] {
  if (typeof value === 'string') return [path];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => stringLeaves(v, [...path, k]));
}

/** Every object key of `value` with the path of its object. */
function objectKeys(value: unknown, path: string[] = []): Array<[string[], string]> {
  if (value === null || typeof value !== 'object') return [];
  const own: Array<[string[], string]> = Array.isArray(value) ? [] : Object.keys(value).map((k) => [path, k]);
  return [...own, ...Object.entries(value).flatMap(([k, v]) => objectKeys(v, [...path, k]))];
}

function at(root: unknown, path: string[]): Json {
  return path.reduce((o, k) => (o as Json)[k], root) as Json;
}

describe('numeric bounds', () => {
  // [type, field path in data, largest accepted, smallest refused above, smallest accepted, largest refused below]
  const BOUNDS: Array<[EventType, string[], number, number, number, number]> = [
    [EVENT_TYPES.generationLogged, ['latencyMs'], LATENCY_MS_MAX, LATENCY_MS_MAX + 1e-3, 0, -1e-9],
    [EVENT_TYPES.generationLogged, ['costUsd'], COST_USD_MAX, COST_USD_MAX + 1e-6, 0, -1e-9],
    [EVENT_TYPES.generationLogged, ['usage', 'promptTokens'], TOKEN_COUNT_MAX, TOKEN_COUNT_MAX + 1, 0, -1],
    [
      EVENT_TYPES.generationLogged,
      ['usage', 'completionTokens'],
      TOKEN_COUNT_MAX,
      TOKEN_COUNT_MAX + 1,
      0,
      -1,
    ],
    [EVENT_TYPES.feedbackSubmitted, ['latencyMs'], LATENCY_MS_MAX, LATENCY_MS_MAX + 1e-3, 0, -1e-9],
    [
      EVENT_TYPES.feedbackSubmitted,
      ['scores', 'relevance'],
      SCORE_ABS_MAX,
      SCORE_ABS_MAX + 1e-3,
      -SCORE_ABS_MAX,
      -SCORE_ABS_MAX - 1e-3,
    ],
    [EVENT_TYPES.exposure, ['phase'], Number.MAX_SAFE_INTEGER, 2 ** 53, 1, 0],
    [
      EVENT_TYPES.experimentCreated,
      ['experiment', 'arms', '0', 'weight'],
      ARM_WEIGHT_MAX,
      ARM_WEIGHT_MAX + 1e-3,
      0,
      -1e-9,
    ],
    [EVENT_TYPES.experimentCreated, ['experiment', 'trafficAllocation'], 1, 1 + 1e-9, 1e-9, 0],
    [EVENT_TYPES.promptVersionRegistered, ['version'], Number.MAX_SAFE_INTEGER, 2 ** 53, 1, 0],
  ];

  it.each(BOUNDS)(
    '%s data.%s: accepts its bounds, refuses beyond them with the field path',
    (type, path, max, over, min, under) => {
      const set = (v: number) =>
        withData(type, (data) => {
          at(data, path.slice(0, -1))[path[path.length - 1]] = v;
        });
      const dotted = `data.${path.join('.')}`;
      expect(issuesOf(set(max))).toEqual([]);
      expect(issuesOf(set(min))).toEqual([]);
      for (const bad of [over, under, 1e200, -1e200]) {
        expect(pathsOf(issuesOf(set(bad)))).toEqual([dotted]);
        expect(pathsOf(issuesOf(set(bad), true))).toEqual([dotted]);
      }
    },
  );

  it('a score of 1e200 (the sum of squares overflows) is refused by producers too', () => {
    const data = { ...VALID_DATA[EVENT_TYPES.feedbackSubmitted], scores: { s: 1e200 } };
    expect(() => createEvent(EVENT_TYPES.feedbackSubmitted, data, { source })).toThrow(
      `data.scores.s: expected a finite number between -${SCORE_ABS_MAX} and ${SCORE_ABS_MAX}`,
    );
  });

  it('rating scales are integers within ±RATING_ABS_MAX', () => {
    const scale = (min: number, max: number) =>
      withData(EVENT_TYPES.feedbackSubmitted, (d) => {
        d.ratingScale = { min, max };
        d.rating = min;
      });
    expect(issuesOf(scale(-RATING_ABS_MAX, RATING_ABS_MAX))).toEqual([]);
    expect(issuesOf(scale(0, RATING_ABS_MAX + 1)).map((i) => i.path)).toContain('data.ratingScale.max');
    expect(issuesOf(scale(-RATING_ABS_MAX - 1, 1)).map((i) => i.path)).toContain('data.ratingScale.min');
  });

  it('keeps every aggregate of 10^12 events at the bounds finite (count, sum, sum of squares)', () => {
    const n = 1e12;
    for (const bound of [LATENCY_MS_MAX, COST_USD_MAX, TOKEN_COUNT_MAX, SCORE_ABS_MAX, RATING_ABS_MAX]) {
      expect(Number.isFinite(n * bound)).toBe(true);
      // Far from overflow: 10^12 more of them, or a variance formula's n * sumSq, still fit.
      expect(n * n * bound * bound).toBeLessThan(Number.MAX_VALUE);
    }
  });

  it('the JSON Schemas carry the bounds (minimum / maximum)', () => {
    const data = (type: EventType) =>
      (toJsonSchema(type) as { properties: { data: { properties: Record<string, Json> } } }).properties.data
        .properties;
    const gen = data(EVENT_TYPES.generationLogged);
    expect(gen.latencyMs).toMatchObject({ minimum: 0, maximum: LATENCY_MS_MAX });
    expect(gen.costUsd).toMatchObject({ minimum: 0, maximum: COST_USD_MAX });
    expect((gen.usage.properties as Record<string, Json>).promptTokens).toMatchObject({
      type: 'integer',
      minimum: 0,
      maximum: TOKEN_COUNT_MAX,
    });
    const fb = data(EVENT_TYPES.feedbackSubmitted);
    expect(fb.latencyMs).toMatchObject({ minimum: 0, maximum: LATENCY_MS_MAX });
    expect(fb.scores.additionalProperties).toMatchObject({ minimum: -SCORE_ABS_MAX, maximum: SCORE_ABS_MAX });
    expect(fb.scores.propertyNames).toMatchObject({ pattern: SCORE_NAME_PATTERN.source });
    expect((fb.ratingScale.properties as Record<string, Json>).max).toMatchObject({
      minimum: -RATING_ABS_MAX,
      maximum: RATING_ABS_MAX,
    });
    const exp = data(EVENT_TYPES.experimentCreated).experiment.properties as Record<string, Json>;
    const arm = (exp.arms.items as { properties: Record<string, Json> }).properties;
    expect(arm.weight).toMatchObject({ minimum: 0, maximum: ARM_WEIGHT_MAX });
  });
});

describe('ids and names', () => {
  const CONTROL = ['\u0000', '\u0007', '\n', '\u001f', '\u007f', '\u0085', '\u009f'];
  const ID_FIELDS: Array<[EventType, string[]]> = [
    [EVENT_TYPES.feedbackSubmitted, ['feedbackId']],
    [EVENT_TYPES.feedbackSubmitted, ['requestId']],
    [EVENT_TYPES.feedbackSubmitted, ['userId']],
    [EVENT_TYPES.generationLogged, ['requestId']],
    [EVENT_TYPES.generationLogged, ['userId']],
    [EVENT_TYPES.exposure, ['userId']],
    [EVENT_TYPES.promptAliasMoved, ['actor']],
    [EVENT_TYPES.experimentCreated, ['actor']],
    [EVENT_TYPES.experimentCreated, ['experiment', 'seed']],
    [EVENT_TYPES.experimentCreated, ['experiment', 'layer', 'name']],
  ];

  it.each(ID_FIELDS)('%s data.%s refuses NUL, C0 and C1 control characters', (type, path) => {
    for (const c of CONTROL) {
      const env = withData(type, (d) => {
        const parent = at(d, path.slice(0, -1));
        parent[path[path.length - 1]] = `a${c}b`;
      });
      expect(issuesOf(env)).toEqual([
        { path: `data.${path.join('.')}`, message: expect.stringContaining('control characters') },
      ]);
    }
  });

  it('user ids take any well-formed Unicode, within USER_ID_MAX_LENGTH code units', () => {
    for (const userId of [
      'ü:日',
      '\u{1F600}'.repeat(USER_ID_MAX_LENGTH / 2),
      'a b',
      '\u00a0',
      'x'.repeat(USER_ID_MAX_LENGTH),
    ]) {
      expect(issuesOf(withData(EVENT_TYPES.exposure, (d) => (d.userId = userId)))).toEqual([]);
    }
    expect(
      issuesOf(withData(EVENT_TYPES.exposure, (d) => (d.userId = 'x'.repeat(USER_ID_MAX_LENGTH + 1)))),
    ).toHaveLength(1);
  });

  it('names follow their patterns: arms, scores, models, prompts, aliases, experiments', () => {
    const refused: Array<[EventType, string[], string]> = [
      [EVENT_TYPES.exposure, ['arm'], 'A B'],
      [EVENT_TYPES.exposure, ['arm'], 'A\u0000'],
      [EVENT_TYPES.exposure, ['arm'], '-A'],
      [EVENT_TYPES.generationLogged, ['model'], 'gpt 4'],
      [EVENT_TYPES.generationLogged, ['model'], 'gpt\u0000'],
      [EVENT_TYPES.promptVersionRegistered, ['name'], 'Checkout'],
      [EVENT_TYPES.promptAliasMoved, ['alias'], 'prod uction'],
      [EVENT_TYPES.exposure, ['prompt', 'name'], 'a/b'],
      [EVENT_TYPES.exposure, ['experiment'], 'Exp'],
    ];
    for (const [type, path, value] of refused) {
      const env = withData(type, (d) => (at(d, path.slice(0, -1))[path[path.length - 1]] = value));
      expect(issuesOf(env).map((i) => i.path)).toEqual([`data.${path.join('.')}`]);
    }
    for (const model of [
      'gpt-4o-mini',
      'openai/gpt-4o',
      'llama3:8b',
      'anthropic.claude-3-sonnet-20240229-v1:0',
      'claude@2024',
    ]) {
      expect(issuesOf(withData(EVENT_TYPES.generationLogged, (d) => (d.model = model)))).toEqual([]);
    }
    const scores = (name: string) =>
      withData(EVENT_TYPES.feedbackSubmitted, (d) => (d.scores = { [name]: 1 }));
    for (const name of ['relevance', 'judge.v2:tone', 'a-b_c', 'x'.repeat(64), '9'])
      expect(issuesOf(scores(name))).toEqual([]);
    for (const name of ['_x', '.x', 'a b', 'x'.repeat(65), 'é', 'a\u0000']) {
      expect(issuesOf(scores(name)).map((i) => i.path)).toEqual([`data.scores.${name}`]);
    }
  });

  it('envelope id, subject and source refuse control characters and lone surrogates', () => {
    for (const field of ['id', 'subject', 'source']) {
      for (const bad of ['a\u0000', 'a\ud800', 'a\u0085']) {
        const env = { ...envelope(EVENT_TYPES.exposure), [field]: bad };
        expect(issuesOf(env).map((i) => i.path)).toEqual([field]);
      }
    }
  });
});

describe('isOpaqueId (for hand-written fast paths)', () => {
  it('agrees with opaqueId() on 20,000 random strings of controls, surrogates, pairs and text', () => {
    // Seeded LCG (this lib depends on no other), so a failure reproduces.
    let x = 0x5bd1e995;
    const next = (): number => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return x / 2 ** 32;
    };
    const CHARS = [
      'a',
      '7',
      '-',
      ' ',
      'é',
      '日',
      '\u{1F600}',
      '\ud800',
      '\udc00',
      '\u0000',
      '\t',
      '\u007f',
      '\u0085',
      '\u00a0',
    ];
    const schema = opaqueId('id', 16);
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      let s = '';
      const length = Math.floor(next() * 20);
      while (s.length < length) s += CHARS[Math.floor(next() * CHARS.length)];
      const expected = schema.safeParse(s).success;
      // Exact without pairs; with them, the fast check's UTF-16 count is only stricter (zod counts
      // a pair once), so it may say no where the schema says yes, never the reverse.
      const exact = s.length === [...s].length || s.length <= 16;
      if (exact) expect({ s, ok: isOpaqueId(s, 16) }).toEqual({ s, ok: expected });
      else if (isOpaqueId(s, 16)) expect({ s, ok: expected }).toEqual({ s, ok: true });
      if (expected) accepted++;
    }
    expect(accepted).toBeGreaterThan(1_000);
    expect(accepted).toBeLessThan(19_000);
  });
});

describe('lone surrogates', () => {
  it.each(ALL_EVENT_TYPES)('every string field of %s refuses one, producers and consumers alike', (type) => {
    const base = envelope(type);
    const leaves = stringLeaves(base).filter(
      ([first]) => !['type', 'dataschema', 'specversion', 'datacontenttype'].includes(first),
    );
    expect(leaves.length).toBeGreaterThan(3);
    for (const path of leaves) {
      for (const bad of ['\ud800', '\udfff', 'x\udc00', '\ud83d']) {
        const env = structuredClone(base);
        const parent = at(env, path.slice(0, -1));
        const key = path[path.length - 1];
        parent[key] = `${parent[key] as string}${bad}`;
        const dotted = path.join('.');
        const strict = issuesOf(env);
        // Only that field, except that a changed arm name also breaks "control and forced name arms".
        const allowed = [dotted, 'data.experiment.control', 'data.experiment.forced.qa-user-1'];
        for (const paths of [pathsOf(strict), pathsOf(issuesOf(env, true))]) {
          expect({ dotted, paths }).toEqual({ dotted, paths: expect.arrayContaining([dotted]) });
          expect(paths.filter((p) => !allowed.includes(p))).toEqual([]);
        }
        if (path[0] === 'data') {
          expect(() =>
            createEvent(type, env.data as never, { source, id: 'evt-1', time: '2025-03-01T10:00:00Z' }),
          ).toThrow(dotted.slice('data.'.length));
        }
      }
    }
  });

  it.each(ALL_EVENT_TYPES)(
    'every object key of %s refuses one (metadata, spec, scores, forced, ...)',
    (type) => {
      const base = envelope(type);
      for (const [path, key] of objectKeys(base.data, ['data'])) {
        const env = structuredClone(base);
        const parent = at(env, path);
        parent[`${key}\ud800`] = parent[key];
        delete parent[key];
        expect({ path, key, ok: issuesOf(env).length > 0 }).toEqual({ path, key, ok: true });
      }
    },
  );

  it('a well-formed surrogate pair is fine everywhere text is free', () => {
    const env = withData(EVENT_TYPES.generationLogged, (d) => {
      d.output = 'ok \u{1F600}';
      d.metadata = { 'k\u{1F600}': ['v\u{1F600}', { n: 1 }] };
      d.userId = '\u{1F600}';
    });
    expect(issuesOf(env)).toEqual([]);
  });

  it('two feedback ids that differ only in a lone surrogate are both refused, never merged', () => {
    for (const feedbackId of ['fb-1\ud800', 'fb-1\udbff']) {
      const env = withData(EVENT_TYPES.feedbackSubmitted, (d) => (d.feedbackId = feedbackId));
      expect(() => parseEvent(JSON.stringify(env))).toThrow('data.feedbackId');
    }
  });
});
