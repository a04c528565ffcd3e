import { LATENCY_MS_MAX, SCORE_ABS_MAX } from '@llmops/contracts';
import { mulberry32 } from '@llmops/stats';
import {
  buildSubmitFeedbackRequestSchema,
  plainFeedbackRequest,
  type RatingScale,
} from './submit-feedback.request';

describe('plainFeedbackRequest', () => {
  // Seeded, so a failure reproduces.
  const next = mulberry32(0x1b873593);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
  const text = (length: number): string => 'x'.repeat(length);

  /** Per field: values it accepts (some at a limit), and values it refuses. */
  const VALUES: Record<string, [valid: unknown[], invalid: unknown[]]> = {
    feedbackId: [
      [text(1), text(256), '0193a0b0-1234-7abc-8def-000000000001', 'fb ü:日\u{1F600}'],
      [text(257), '', 7, 'fb\u0000', 'fb\ud800', '\udc00', 'a\u0085', 'tab\t'],
    ],
    requestId: [
      [text(1), 'req-1', text(256), 'req \u{1F600}'],
      [text(257), '', null, 3, 'r\u0000', 'r\ud800', 'r\n', '\u007f'],
    ],
    experiment: [
      ['exp', 'a.b-c_d', text(128)],
      ['Exp', '-x', '', text(129), 1],
    ],
    arm: [
      ['A', text(128), 'arm-1.b:c_d'],
      [text(129), '', false, 'A B', '-A', 'A\u0000', 'é', 'A\ud800'],
    ],
    userId: [
      ['u1', 'ü:日', text(512), 'a b\u{1F600}'],
      [text(513), '', {}, 'u\u0000', 'u\ud800', '\udfffu', 'u\u009f'],
    ],
    rating: [
      [0, 1, 3, 5, 10],
      [6, 11, 2.5, -1, Number.NaN, '3', null, 1e300],
    ],
    thumbs: [
      ['up', 'down'],
      ['UP', '', 1],
    ],
    source: [
      ['user', 'judge', 'reviewer'],
      ['bot', '', undefined],
    ],
    latencyMs: [
      [0, 12.5, 800, LATENCY_MS_MAX],
      [-1, Number.POSITIVE_INFINITY, '800', null, LATENCY_MS_MAX + 0.5, 1e200],
    ],
    comment: [
      ['nice', 'ok \u{1F600}\n', 'a\u0000b'],
      ['', 'x\ud800', 3, null],
    ],
    correction: [
      ['fixed', '\u{1F600}'],
      ['', '\udfff', {}],
    ],
    timestamp: [
      [
        '2025-03-01T10:00:00.000Z',
        '2025-03-01T10:00:00Z',
        '2025-03-01T10:00:00.123456+02:00',
        '2025-12-31T23:59:59-05:30',
      ],
      [
        'yesterday',
        '2025-03-01',
        '2025-13-01T10:00:00Z',
        '2025-03-01T10:00:00',
        '2025-03-01 10:00:00Z',
        1_700_000_000,
        '',
      ],
    ],
    scores: [
      [
        { relevance: 0.9 },
        {},
        { 'judge.v2:tone': -SCORE_ABS_MAX },
        { a: 0, b: SCORE_ABS_MAX, 'c-d': -0.5 },
        Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`s${i}`, i])),
      ],
      [
        { 'bad name': 1 },
        { s: 1e200 },
        { _x: 1 },
        { s: SCORE_ABS_MAX * 2 },
        { s: '1' },
        { s: null },
        { s: Number.NaN },
        [],
        [1],
        null,
        'x',
        Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`s${i}`, i])),
        Object.assign(Object.create(null) as object, { s: 1 }),
      ],
    ],
    extra: [[], [1]],
  };
  const value = (key: string): unknown => {
    const [valid, invalid] = VALUES[key];
    return valid.length > 0 && next() < 0.85 ? pick(valid) : pick(invalid);
  };
  const COMMON = ['requestId', 'source', 'rating', 'thumbs', 'experiment', 'arm', 'latencyMs'];

  function item(): unknown {
    if (next() < 0.03) return pick([null, 'x', 3, [], [{ requestId: 'r', source: 'user', rating: 1 }]]);
    const out: Record<string, unknown> =
      next() < 0.05 ? (Object.create(null) as Record<string, unknown>) : {};
    for (const key of Object.keys(VALUES)) {
      const p = next();
      if (COMMON.includes(key) ? p < 0.8 : p < 0.12) out[key] = value(key);
    }
    return out;
  }

  it.each<[string, RatingScale]>([
    ['1..5', { min: 1, max: 5 }],
    ['0..10', { min: 0, max: 10 }],
  ])(
    'accepts only items the schema of scale %s accepts, and returns what it returns (20,000 random items)',
    (_name, scale) => {
      const schema = buildSubmitFeedbackRequestSchema(scale);
      let plain = 0;
      let validButNotPlain = 0;
      for (let i = 0; i < 20_000; i++) {
        const input = item();
        const reference = schema.safeParse(input);
        const fast = plainFeedbackRequest(input, scale);
        if (fast !== undefined) {
          expect(reference.success).toBe(true);
          expect(fast).toEqual(reference.data);
          plain++;
        } else if (reference.success) {
          validButNotPlain++;
        }
      }
      // The generator must exercise the hand check and the fallback, plenty of each.
      expect(plain).toBeGreaterThan(1_000);
      expect(validButNotPlain).toBeGreaterThan(100);
    },
  );

  it('accepts no object JSON does not make unless the schema does (hidden keys, other prototypes)', () => {
    const scale = { min: 1, max: 5 };
    const schema = buildSubmitFeedbackRequestSchema(scale);
    const hidden = { requestId: 'r', source: 'user', rating: 3 };
    Object.defineProperty(hidden, 'comment', { value: '', enumerable: false });
    class Item {
      requestId = 'r';
      source = 'user';
      rating = 3;
    }
    const bare = Object.assign(Object.create(null) as object, { requestId: 'r', source: 'user', rating: 3 });
    for (const input of [
      hidden,
      new Item(),
      bare,
      JSON.parse('{"requestId":"r","source":"user","rating":3,"__proto__":{"comment":""}}') as unknown,
      { rating: 3, source: 'user', requestId: 'r' },
    ]) {
      const fast = plainFeedbackRequest(input, scale);
      const reference = schema.safeParse(input);
      if (fast !== undefined) {
        expect(reference.success).toBe(true);
        expect(fast).toEqual(reference.data);
      }
    }
    expect(plainFeedbackRequest(hidden, scale)).toBeUndefined();
    expect(schema.safeParse(hidden).success).toBe(false);
  });

  it('takes the common shapes (the SDK sends a timestamp; text and scores included), and leaves unknown fields and anything the schema would refuse to it', () => {
    const scale = { min: 1, max: 5 };
    const base = {
      requestId: 'r1',
      experiment: 'exp',
      arm: 'B',
      rating: 4,
      thumbs: 'up',
      source: 'user',
      latencyMs: 812,
    };
    expect(plainFeedbackRequest(base, scale)).toBe(base);
    const sdk = {
      ...base,
      feedbackId: '0193a0b0-1234-7abc-8def-000000000001',
      comment: 'ok',
      correction: 'better',
      scores: { q: 1 },
      timestamp: '2025-03-01T10:00:00.000Z',
    };
    expect(plainFeedbackRequest(sdk, scale)).toBe(sdk);
    for (const extra of [
      { comment: '' },
      { scores: { 'q q': 1 } },
      { timestamp: '2025-03-01T10:00:00' },
      { x: 1 },
    ]) {
      expect(plainFeedbackRequest({ ...base, ...extra }, scale)).toBeUndefined();
    }
    // Only text or scores as the signal.
    const { rating: _r, thumbs: _t, ...noPlainSignal } = base;
    expect(plainFeedbackRequest({ ...noPlainSignal, comment: 'c' }, scale)).toBeDefined();
    expect(plainFeedbackRequest({ ...noPlainSignal, scores: { q: 0 } }, scale)).toBeDefined();
    expect(plainFeedbackRequest({ ...noPlainSignal, scores: {} }, scale)).toBeUndefined();
    // No signal among the plain fields: the schema decides (and refuses).
    expect(plainFeedbackRequest({ requestId: 'r1', source: 'user' }, scale)).toBeUndefined();
  });

  it('refuses control characters and lone surrogates in ids, arms off the pattern and out-of-bound numbers, with the field path', () => {
    const scale = { min: 1, max: 5 };
    const schema = buildSubmitFeedbackRequestSchema(scale);
    const base = { requestId: 'r1', feedbackId: 'f1', userId: 'u1', arm: 'B', source: 'user', rating: 4 };
    const bad: Array<[string, unknown]> = [
      ['requestId', 'r\u0000'],
      ['requestId', 'r\ud800'],
      ['feedbackId', 'f\ud800'],
      ['feedbackId', 'f\u0085'],
      ['userId', 'u\udc00'],
      ['userId', 'u\n'],
      ['arm', 'A B'],
      ['latencyMs', LATENCY_MS_MAX * 2],
    ];
    for (const [field, value] of bad) {
      const input = { ...base, [field]: value };
      expect(plainFeedbackRequest(input, scale)).toBeUndefined();
      const result = schema.safeParse(input);
      expect({ field, paths: result.error?.issues.map((i) => i.path.join('.')) }).toEqual({
        field,
        paths: [field],
      });
    }
    for (const [field, value] of [
      ['scores', { s: 1e200 }],
      ['comment', 'x\ud800'],
      ['correction', '\udfff'],
    ] as const) {
      const result = schema.safeParse({ ...base, [field]: value });
      expect(result.error?.issues[0].path[0]).toBe(field);
    }
    expect(
      plainFeedbackRequest({ ...base, userId: 'ü \u{1F600}', latencyMs: LATENCY_MS_MAX }, scale),
    ).toBeDefined();
  });
});
