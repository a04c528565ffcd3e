import { AppError } from '../errors/app-error';
import { assertJsonBodyAcceptable, findJsonBodyOffence } from './json-body';

/** JSON text of `levels` nested arrays around `inner`. */
function nestedText(levels: number, inner = '0'): string {
  return '['.repeat(levels) + inner + ']'.repeat(levels);
}

describe('findJsonBodyOffence', () => {
  it('accepts scalars, and containers nested exactly to the limit (the root is level 1)', () => {
    for (const value of [null, 0, 'x', true, {}, []]) expect(findJsonBodyOffence(value, 1)).toBeNull();
    expect(findJsonBodyOffence(JSON.parse(nestedText(64)), 64)).toBeNull();
    expect(findJsonBodyOffence({ a: { b: [1, { c: 'd' }] } }, 4)).toBeNull();
  });

  it('refuses one level more, with the path to the first container past the limit', () => {
    expect(findJsonBodyOffence(JSON.parse(nestedText(65)), 64)).toEqual({
      code: 'json_too_deep',
      path: Array<number>(64).fill(0),
    });
    expect(findJsonBodyOffence({ a: { b: [1, { c: 'd' }] } }, 3)).toEqual({
      code: 'json_too_deep',
      path: ['a', 'b', 1],
    });
    // Objects and arrays count alike.
    expect(findJsonBodyOffence({ a: [{ b: [] }] }, 3)?.path).toEqual(['a', 0, 'b']);
  });

  it('stops at the limit on 100,000 levels instead of overflowing the stack', () => {
    const deep: unknown = JSON.parse(nestedText(100_000));
    expect(findJsonBodyOffence(deep, 64)?.code).toBe('json_too_deep');
    expect(findJsonBodyOffence(deep, 1_000)?.path).toHaveLength(1_000);
  });

  it('finds a lone surrogate in a string value, an array item and an object key, with its path', () => {
    expect(findJsonBodyOffence(JSON.parse('{"a":"x\\ud800"}'), 64)).toEqual({
      code: 'invalid_unicode',
      path: ['a'],
    });
    expect(findJsonBodyOffence(JSON.parse('{"a":["ok","\\udc00y"]}'), 64)).toEqual({
      code: 'invalid_unicode',
      path: ['a', 1],
    });
    expect(findJsonBodyOffence(JSON.parse('{"a":{"k\\udbff":1}}'), 64)).toEqual({
      code: 'invalid_unicode',
      path: ['a', 'k\udbff'],
    });
    expect(findJsonBodyOffence(JSON.parse('"\\ud800"'), 64)).toEqual({ code: 'invalid_unicode', path: [] });
    // A low surrogate before a high one is two lone surrogates, not a pair.
    expect(findJsonBodyOffence('\udc00\ud800', 64)?.code).toBe('invalid_unicode');
  });

  it('accepts well-formed text: pairs, astral characters, U+FFFD and non-BMP keys', () => {
    expect(findJsonBodyOffence(JSON.parse('{"\\ud83d\\ude00":"\\ud83d\\ude00 😀 \ufffd é"}'), 64)).toBeNull();
  });

  it('reports the first offence in document order', () => {
    expect(findJsonBodyOffence({ a: '\ud800', b: [[[]]] }, 2)).toEqual({
      code: 'invalid_unicode',
      path: ['a'],
    });
    expect(findJsonBodyOffence({ b: [[[]]], a: '\ud800' }, 2)).toEqual({
      code: 'json_too_deep',
      path: ['b', 0],
    });
  });
});

describe('assertJsonBodyAcceptable', () => {
  const errorOf = (value: unknown, maxDepth: number, text?: string): AppError => {
    try {
      assertJsonBodyAcceptable(value, maxDepth, text);
    } catch (err) {
      return err as AppError;
    }
    throw new Error('expected an error');
  };

  it('json_too_deep: 400 naming the limit, the variable and the path', () => {
    const err = errorOf({ items: [{ meta: { a: {} } }] }, 3);
    expect([err.status, err.code]).toEqual([400, 'json_too_deep']);
    expect(err.message).toContain('more than 3 levels');
    expect(err.message).toContain('HTTP_JSON_MAX_DEPTH');
    expect(err.details).toEqual({
      maxDepth: 3,
      path: 'items.0.meta',
      issues: [{ path: 'items.0.meta', message: 'nested more than 3 levels deep' }],
    });
  });

  it('looks at strings only when the text they were parsed from has a \\u escape', () => {
    const text = '{"a":["x","\\ud800"]}';
    expect(errorOf(JSON.parse(text), 64, text).details).toMatchObject({ path: 'a.1' });
    // Without any escape, well-formed UTF-8 cannot hold a lone surrogate; depth is still checked.
    expect(() => assertJsonBodyAcceptable({ a: '\ud800' }, 64, '{"a":"ok"}')).not.toThrow();
    expect(errorOf([[[]]], 2, '[[[]]]').code).toBe('json_too_deep');
  });

  it('invalid_unicode: 400 with the path, the lone surrogate of a key written as an escape', () => {
    const err = errorOf(JSON.parse('{"scores":{"s\\ud800":1}}'), 64);
    expect([err.status, err.code]).toEqual([400, 'invalid_unicode']);
    expect(err.details).toEqual({
      path: 'scores.s\\ud800',
      issues: [{ path: 'scores.s\\ud800', message: 'contains a lone UTF-16 surrogate' }],
    });
    expect(err.message).toContain('scores.s\\ud800');
    // The root's path is '', as in validation_failed; the message names it.
    expect(errorOf('\udfff', 64).details).toMatchObject({ path: '' });
    expect(errorOf('\udfff', 64).message).toContain('at (body)');
  });
});
