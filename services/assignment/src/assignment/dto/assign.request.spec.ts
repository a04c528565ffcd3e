import { parseOrThrow, ValidationFailedError } from '@llmops/platform';
import { mulberry32 } from '@llmops/stats';
import { assignRequestSchema, parseAssignRequest } from './assign.request';

/** The outcome of a parser: its value, or the issues of its 400. */
function outcome(parse: () => unknown): { ok: unknown } | { issues: unknown } {
  try {
    return { ok: parse() };
  } catch (err) {
    if (err instanceof ValidationFailedError) return { issues: err.details?.issues };
    throw err;
  }
}

describe('parseAssignRequest', () => {
  // Seeded, so a failure reproduces.
  const next = mulberry32(0x9e3779b9);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];

  const CHARS = [
    ...['a', 'Z', '7', ':', '-', 'é', '日', '\u{1F600}'],
    ...['\uD800', '\uDC00', ' ', '"', '\u0000', '\n', '\u007F', '\u0085'],
  ];
  function text(): string {
    const length = pick([0, 1, 2, 8, 127, 128, 129, 511, 512, 513]);
    let out = '';
    while (out.length < length) out += pick(CHARS);
    // A surrogate pair may overshoot by one unit: cut to the exact length (possibly splitting it).
    return out.slice(0, length);
  }
  /** A string both accept as a key or a user id: whole code points, 1 to 101 units. */
  function validText(): string {
    const length = pick([1, 2, 8, 100, 128, 512]);
    let out = '';
    while (out.length < length) out += pick(CHARS.slice(0, 8));
    return out;
  }
  /** A key both accept: the experiment key pattern, 1 to 128 characters. */
  function validKey(): string {
    const length = pick([1, 2, 8, 128]);
    let out = pick(['a', '7']);
    while (out.length < length) out += pick(['a', 'z', '7', '.', '-', '_']);
    return out;
  }
  function value(key: string): unknown {
    if (next() < 0.75) return key === 'experiment' && next() < 0.9 ? validKey() : validText();
    return pick([text, () => 42, () => null, () => true, () => [text()], () => ({ a: text() })])();
  }
  function body(): unknown {
    const shape = next();
    if (shape < 0.05) return pick([null, 'x', 3, [], [{ experiment: 'e', userId: 'u' }]]);
    const out: Record<string, unknown> = shape < 0.1 ? (Object.create(null) as Record<string, unknown>) : {};
    for (const key of ['experiment', 'userId', 'attributes', 'extra']) {
      const p = next();
      if (key === 'attributes' || key === 'extra' ? p < 0.15 : p < 0.9) {
        out[key] = key === 'attributes' && p < 0.1 ? { plan: pick(['pro', 'free']), seats: 3 } : value(key);
      }
    }
    return out;
  }

  it('agrees with assignRequestSchema on 20,000 random bodies (same value, or the same issues)', () => {
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const input = body();
      const expected = outcome(() => parseOrThrow(assignRequestSchema, input));
      expect(outcome(() => parseAssignRequest(input))).toEqual(expected);
      if ('ok' in expected) accepted++;
    }
    // The generator must exercise both outcomes, and plenty of each.
    expect(accepted).toBeGreaterThan(1_000);
    expect(accepted).toBeLessThan(19_000);
  });

  it('agrees with the schema on objects JSON does not make (hidden keys, other prototypes, key order)', () => {
    const hidden = { experiment: 'e', userId: 'u' };
    Object.defineProperty(hidden, 'attributes', { value: 5, enumerable: false });
    class Body {
      experiment = 'e';
      userId = 'u';
    }
    const bare = Object.assign(Object.create(null) as object, { experiment: 'e', userId: 'u' });
    for (const input of [
      hidden,
      new Body(),
      bare,
      { userId: 'u', experiment: 'e' },
      JSON.parse('{"experiment":"e","userId":"u","__proto__":{"x":1}}') as unknown,
      { experiment: 'e', userId: 'x'.repeat(512) },
      { experiment: 'e'.repeat(128), userId: 'u' },
      { experiment: 'e', userId: '\u{1F600}'.repeat(256) },
      { experiment: 'e', userId: new String('u') },
    ]) {
      expect(outcome(() => parseAssignRequest(input))).toEqual(
        outcome(() => parseOrThrow(assignRequestSchema, input)),
      );
    }
  });

  it('accepts the plain shape and keeps attributes, which go through the schema', () => {
    expect(parseAssignRequest({ experiment: 'e', userId: 'ü:1' })).toEqual({
      experiment: 'e',
      userId: 'ü:1',
    });
    expect(parseAssignRequest({ experiment: 'e', userId: 'u', attributes: { plan: 'pro' } })).toEqual({
      experiment: 'e',
      userId: 'u',
      attributes: { plan: 'pro' },
    });
  });

  it.each([
    [{ experiment: 'e', userId: '' }, 'userId'],
    [{ experiment: 'e', userId: 'x'.repeat(513) }, 'userId'],
    [{ experiment: 'e', userId: 'a\uD800' }, 'userId'],
    [{ experiment: 'e', userId: 'a\u0000' }, 'userId'],
    [{ experiment: 'e', userId: '\u0085' }, 'userId'],
    [{ experiment: 'e', userId: 'tab\t' }, 'userId'],
    [{ experiment: 'E', userId: 'u' }, 'experiment'],
    [{ experiment: 'e\u0000', userId: 'u' }, 'experiment'],
    [{ experiment: 'e', userId: 'u', attributes: { 'a\u0000': 1 } }, 'attributes.a\u0000'],
    [{ experiment: 'e', userId: 'u', attributes: { plan: 'p\uD800' } }, 'attributes.plan'],
    [{ experiment: '', userId: 'u' }, 'experiment'],
    [{ experiment: 'e'.repeat(129), userId: 'u' }, 'experiment'],
    [{ experiment: 'e', userId: 'u', extra: 1 }, 'extra'],
    [{ userId: 'u' }, 'experiment'],
  ])('refuses %j with an issue at %s', (input, path) => {
    const result = outcome(() => parseAssignRequest(input));
    expect(result).toEqual({ issues: expect.arrayContaining([expect.objectContaining({ path })]) });
    const issues = (result as { issues: Array<{ path: string }> }).issues;
    expect(issues.every((issue) => issue.path === path)).toBe(true);
  });
});
