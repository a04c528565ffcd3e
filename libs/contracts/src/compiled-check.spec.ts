// The compiled check against zod, mechanically: over the contract fixtures, hostile and poison
// records and random mutations, whenever the compiled path accepts a record zod accepts it too
// (strict and tolerant) with the parsed value itself, and whenever zod accepts a record as it is
// (nothing stripped or defaulted) and the gate lets the compiled check decide, it accepts it. And
// safeParseEvent returns exactly what zod alone returns: the same event, or the same error.
import {
  ALL_EVENT_TYPES,
  createEvent,
  EVENT_TYPES,
  type EventType,
  isEventType,
  safeParseEvent,
  safeValidateEvent,
  serializeEvent,
} from './index';
import {
  COMPILED_CHECK_MAX_BRACKETS,
  compileEnvelopeCheck,
  compiledEnvelopeCheck,
  mayCheckCompiled,
} from './compiled-check';
import { z } from 'zod';
import { text } from './events/text.schema';
import { isDeepStrictEqual } from 'node:util';
import { VALID_DATA } from '../test/support/fixtures';

const HOT: EventType[] = [EVENT_TYPES.exposure, EVENT_TYPES.generationLogged, EVENT_TYPES.feedbackSubmitted];

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function envelopeText(type: EventType, data: unknown = VALID_DATA[type], subject?: string): string {
  return serializeEvent(
    createEvent(type, data as never, {
      source: '/llmops/test',
      id: 'evt-1',
      time: '2025-03-01T10:00:00.000Z',
      project: 'checkout-team',
      subject,
    }),
  );
}

type Outcome = { event: unknown } | { error: string } | { thrown: string };

function outcome(parse: () => ReturnType<typeof safeParseEvent>): Outcome {
  try {
    const r = parse();
    return r.ok ? { event: r.event } : { error: r.error.message };
  } catch (err) {
    return { thrown: (err as Error).name };
  }
}

const tally = { compiled: 0, zodOnly: 0, rejected: 0 };

/** Checks one record text (bytes, or a string when `fromString`). */
function agree(text: string, fromString = false): void {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return;
  }
  const type = (value as { type?: unknown } | null)?.type;
  const gate = isEventType(type) && mayCheckCompiled(text, fromString);
  const check = isEventType(type) ? compiledEnvelopeCheck(type) : null;
  const compiled = gate && check !== null && check(structuredClone(value));
  // zod alone, on copies (zod never sees what the compiled check saw).
  const strict = outcome(() => safeValidateEvent(structuredClone(value)));
  const tolerant = outcome(() => safeValidateEvent(structuredClone(value), { tolerateUnknownFields: true }));
  if (compiled) {
    tally.compiled++;
    if (!isDeepStrictEqual(strict, { event: value }) || !isDeepStrictEqual(tolerant, { event: value })) {
      throw new Error(`compiled check accepted what zod refuses or changes: ${text}`);
    }
  } else if ('event' in strict) {
    tally.zodOnly++;
    // zod accepted it as it is: only the gate or an unsupported type may have kept it from the check.
    const asIs = JSON.stringify(strict.event).length === JSON.stringify(value).length;
    if (gate && check !== null && asIs) throw new Error(`compiled check refused what zod accepts: ${text}`);
  } else {
    tally.rejected++;
  }
  // End to end: the same event, or the same error, as zod alone gives.
  const parsed = outcome(() =>
    safeParseEvent(fromString ? text : Buffer.from(text), { tolerateUnknownFields: true }),
  );
  if (!isDeepStrictEqual(parsed, tolerant)) {
    expect({ text, result: parsed }).toStrictEqual({ text, result: tolerant });
  }
}

describe('compiled envelope check', () => {
  it('covers the hot event types and accepts every valid fixture of a type it compiles', () => {
    for (const type of HOT) expect(compiledEnvelopeCheck(type)).not.toBeNull();
    for (const type of ALL_EVENT_TYPES) {
      for (const subject of [undefined, 'k-1']) {
        const text = envelopeText(type, VALID_DATA[type], subject);
        agree(text);
        agree(text, true);
        const check = compiledEnvelopeCheck(type);
        if (check) expect(check(JSON.parse(text))).toBe(true);
      }
    }
  });

  it('agrees with zod on hostile records: surrogates, control characters, __proto__, depth, bounds', () => {
    const fb = envelopeText(EVENT_TYPES.feedbackSubmitted);
    const gen = envelopeText(EVENT_TYPES.generationLogged);
    const exp = envelopeText(EVENT_TYPES.exposure);
    const emoji = '\u{1F600}';
    const records: Array<[string, boolean?]> = [
      // lone surrogates, escaped and (as string input) raw
      [fb.replace('"helpful"', '"help\\ud800ful"')],
      [fb.replace('"helpful"', '"help\ud800ful"'), true],
      [fb.replace('"helpful"', '"help\udc00"'), true],
      [gen.replace('"region"', '"reg\\udfffion"')],
      [exp.replace('"user-42"', `"${emoji}"`), true],
      [exp.replace('"user-42"', '"\\ud83d\\ude00"')],
      // user ids at the length limit in code units (zod's unit), with astral characters
      [exp.replace('"user-42"', `"${emoji.repeat(256)}"`)],
      [exp.replace('"user-42"', `"x${emoji.repeat(256)}"`)],
      [exp.replace('"user-42"', `"${'u'.repeat(512)}"`)],
      [exp.replace('"user-42"', `"${'u'.repeat(513)}"`)],
      // control characters: C0 only escaped in JSON, DEL and C1 raw
      [exp.replace('"user-42"', '"user\\u0001"')],
      [exp.replace('"user-42"', '"user\u007f"')],
      [exp.replace('"user-42"', '"user\u0085"')],
      [exp.replace('"user-42"', '"user\u00a0"')],
      [exp.replace('"evt-1"', '"evt\u009f1"')],
      // prototype keys
      [gen.replace('"region"', '"__proto__"')],
      [gen.replace('"region":"eu"', '"__proto__":{"region":"eu"}')],
      [exp.replace('"userId"', '"__proto__":{},"userId"')],
      [gen.replace('"region"', '"constructor"')],
      [gen.replace('"region"', '"toString"')],
      // nesting, around and far beyond the bracket bound
      ...[1, 10, COMPILED_CHECK_MAX_BRACKETS - 4, COMPILED_CHECK_MAX_BRACKETS + 1, 5_000].map(
        (depth): [string] => [
          gen.replace(
            '"output":"On its way."',
            `"output":"ok","metadata":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
          ),
        ],
      ),
      [gen.replace('"retries":0', `"retries":${'['.repeat(3_000)}${']'.repeat(3_000)}`)],
      // analytics' poison: numbers beyond the contract's bounds
      [fb.replace('"relevance":0.9', '"relevance":1e200')],
      [gen.replace('"costUsd":0.00012', '"costUsd":1.7e308')],
      [gen.replace('"latencyMs":812.5', '"latencyMs":1e300')],
      [fb.replace('"revision":1', '"revision":"one"')],
      [gen.replace('"latencyMs":812.5', '"latencyMs":-0')],
      [gen.replace('"promptTokens":20', '"promptTokens":20.5')],
      [gen.replace('"promptTokens":20', '"promptTokens":9007199254740993')],
      [exp.replace('"phase":2', '"phase":1e0')],
      // date-times
      ...[
        '2024-02-29T00:00:00Z',
        '2023-02-29T00:00:00Z',
        '2025-03-01t10:00:00z',
        '2025-03-01T24:00:00Z',
        '2025-03-01T10:00:00+24:00',
        '2025-03-01T10:00:00.123456789-03:30',
        '2025-03-01 10:00:00Z',
      ].map((t): [string] => [exp.replace('"time":"2025-03-01T10:00:00.000Z"', `"time":"${t}"`)]),
      // unknown fields (zod strips them), a defaulted field missing (zod fills it in)
      [exp.replace('"phase"', '"extra":1,"phase"')],
      [fb.replace('"ratingScale":{"min":1,"max":5}', '"ratingScale":{"min":1,"max":5,"x":1}')],
      [fb.replace('"ratingScale":{"min":1,"max":5},', '')],
      [fb.replace('"specversion"', '"zzz":null,"specversion"')],
      // duplicate keys (JSON.parse keeps the last)
      [exp.replace('"phase":2', '"phase":"x","phase":2')],
      [exp.replace('"phase":2', '"phase":2,"phase":0')],
      // not an event
      ['null'],
      ['[]'],
      ['"x"'],
      ['{}'],
      ['{"type":"io.llmops.exposure.v1"}'],
    ];
    for (const [text, fromString] of records) agree(text, fromString === true);
  });

  it('agrees with zod on the feedback cross-field rules (rating vs scale, signals, revision vs edit)', () => {
    const r = rng(23);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
    const base = JSON.parse(envelopeText(EVENT_TYPES.feedbackSubmitted)) as { data: Record<string, unknown> };
    for (let i = 0; i < 2_000; i++) {
      const data: Record<string, unknown> = { ...base.data };
      for (const k of ['rating', 'thumbs', 'comment', 'correction', 'scores']) delete data[k];
      if (r() < 0.6) data.rating = pick([-2, 0, 1, 2.5, 3, 5, 6, 8, 1e6, -1e6 - 1]);
      if (r() < 0.9) data.ratingScale = { min: pick([-3, 0, 1, 2, 5, 1.5]), max: pick([-1, 1, 5, 7, 10]) };
      else delete data.ratingScale;
      if (r() < 0.3) data.thumbs = pick(['up', 'down', 'sideways']);
      if (r() < 0.2) data.comment = pick(['c', '']);
      if (r() < 0.1) data.correction = 'fix';
      if (r() < 0.3) data.scores = pick([{}, { relevance: 0.5 }, { 'bad name': 1 }, { x: 2e6 }]);
      data.revision = pick([1, 2, 3, 0]);
      data.edit = pick([null, { previousRevision: 1 }, { previousRevision: 2 }, { previousRevision: 0 }]);
      agree(JSON.stringify({ ...base, data }));
    }
  });

  it('agrees with zod on 6,000 random mutations of valid events of every compiled type', () => {
    const r = rng(7);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
    const strings = [
      '',
      'a',
      'A',
      '0',
      '-',
      'user 42',
      'x'.repeat(64),
      'a'.repeat(300),
      'é',
      '\u{1F600}',
      '\u007f',
      '\u0085',
      '\t',
      'control',
      'treatment',
      'up',
      'hash',
      'forced',
      'user',
      'judge',
      'system',
      'tool',
      '1.0',
      'application/json',
      '/llmops/x',
      'checkout',
      'a'.repeat(64),
      'f'.repeat(12),
      '2025-03-01T10:00:00.000Z',
      '2025-13-01T10:00:00Z',
      'io.llmops.exposure.v1',
    ];
    const numbers = [
      0,
      -0,
      1,
      -1,
      0.5,
      2,
      3,
      5,
      7,
      1e6,
      1e6 + 1,
      86_400_000,
      86_400_001,
      2 ** 53,
      1e308,
      -1e308,
    ];
    const randomValue = (depth = 0): unknown => {
      const roll = r();
      if (roll < 0.35) {
        const s = pick(strings);
        return r() < 0.2 ? s + pick(strings) : s;
      }
      if (roll < 0.65) return pick(numbers);
      if (roll < 0.72) return pick([true, false, null]);
      if (roll < 0.86 || depth > 2) return depth > 2 ? null : [randomValue(depth + 1)];
      return { [pick(['k', 'role', 'content', 'min', 'max', 'a b'])]: randomValue(depth + 1) };
    };
    const paths = (v: unknown, at: string[] = []): string[][] =>
      v !== null && typeof v === 'object'
        ? [at, ...Object.keys(v).flatMap((k) => paths((v as Record<string, unknown>)[k], [...at, k]))]
        : [at];
    // Types left to zod need no differential; the hot ones weigh three times.
    const bases = ALL_EVENT_TYPES.filter((t) => compiledEnvelopeCheck(t) !== null).flatMap((t) => [
      envelopeText(t),
      ...(HOT.includes(t) ? [envelopeText(t), envelopeText(t)] : []),
    ]);
    for (let i = 0; i < 6_000; i++) {
      const value = JSON.parse(pick(bases)) as Record<string, unknown>;
      for (let m = 1 + Math.floor(r() * 2); m > 0; m--) {
        const path = pick(paths(value).filter((p) => p.length > 0));
        const key = path[path.length - 1];
        let parent: unknown = value;
        for (const k of path.slice(0, -1)) parent = (parent as Record<string, unknown>)[k];
        const holder = parent as Record<string, unknown>;
        const roll = r();
        if (roll < 0.15 && !Array.isArray(holder)) delete holder[key];
        else if (roll < 0.25 && !Array.isArray(holder)) holder[pick(['extra', 'k', '__x'])] = randomValue();
        else if (roll < 0.45 && typeof holder[key] === 'string')
          holder[key] = (holder[key] as string) + pick(strings);
        else holder[key] = randomValue();
      }
      agree(JSON.stringify(value));
    }
    // The corpus exercised both paths and zod's rejections.
    expect(tally.compiled).toBeGreaterThan(600);
    expect(tally.rejected).toBeGreaterThan(3_000);
    expect(tally.zodOnly).toBeGreaterThan(10);
  });

  it('leaves to zod what its JSON Schema does not carry, and runs refinements at fixed paths', () => {
    const compile = (schema: z.ZodType) =>
      compileEnvelopeCheck(schema, z.toJSONSchema(schema, { io: 'output' }) as Record<string, unknown>);
    // Value rewrites, a format without a pattern, a float-tolerant multipleOf, a refinement
    // inside an array or a record: no compiled check.
    expect(compile(z.strictObject({ a: z.string().trim() }))).toBeNull();
    expect(compile(z.strictObject({ a: z.url() }))).toBeNull();
    expect(compile(z.strictObject({ a: z.number().multipleOf(0.1) }))).toBeNull();
    const even = (n: number) => n % 2 === 0;
    expect(compile(z.strictObject({ a: z.array(z.number().refine(even)) }))).toBeNull();
    expect(compile(z.record(z.string(), z.number().refine(even)))).toBeNull();
    // Free text (its refinement is the gate's) and a refinement on a field, run as zod's check.
    const check = compile(
      z.strictObject({ t: text(), n: z.strictObject({ v: z.number().refine(even) }).optional() }),
    );
    expect(check).not.toBeNull();
    expect([{ t: 'x' }, { t: 'x', n: { v: 2 } }, { t: 'x', n: { v: 3 } }].map((v) => check!(v))).toEqual([
      true,
      true,
      false,
    ]);
  });
});
