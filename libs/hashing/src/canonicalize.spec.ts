import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalize, CanonicalizationError } from './index';

interface Rfc8785Vectors {
  comment: string;
  examples: Array<{ name: string; input: string; expected: string; expectedKeyOrder?: string[] }>;
  numbers: Array<{ ieee754: string; expected: string | null; comment: string }>;
}

const vectors = JSON.parse(
  readFileSync(join(__dirname, '..', 'fixtures', 'rfc8785-vectors.json'), 'utf8'),
) as Rfc8785Vectors;

function fromIeee754Hex(hex: string): number {
  const buf = Buffer.from(hex, 'hex');
  expect(buf.length).toBe(8);
  return buf.readDoubleBE(0);
}

function thrown(fn: () => unknown): CanonicalizationError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CanonicalizationError);
    return e as CanonicalizationError;
  }
  throw new Error('expected a CanonicalizationError, nothing was thrown');
}

describe('canonicalize: RFC 8785 test vectors', () => {
  it('fixture cites the RFC and has every Appendix B sample', () => {
    expect(vectors.comment).toMatch(/RFC 8785/);
    expect(vectors.comment).toMatch(/3\.2\.2/);
    expect(vectors.comment).toMatch(/Appendix B/);
    expect(vectors.numbers).toHaveLength(26);
    expect(vectors.examples).toHaveLength(2);
  });

  it.each(vectors.examples.map((e) => [e.name, e] as const))('%s', (_name, example) => {
    const out = canonicalize(JSON.parse(example.input));
    expect(out).toBe(example.expected);
    if (example.expectedKeyOrder) {
      // Object.keys would list the integer-like key "1" first, so read the order from the text.
      const positions = example.expectedKeyOrder.map((k) => out.indexOf(`${JSON.stringify(k)}:`));
      expect(positions.every((p) => p > 0)).toBe(true);
      expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    }
  });

  it('section 3.2.3: sorting is by UTF-16 code units, not code points or locale', () => {
    // U+1F600 is the surrogate pair d83d de00, which sorts BEFORE U+FB33 by code unit although
    // it is after it by code point; localeCompare would put "1" first and "\r" elsewhere.
    const out = canonicalize({ '\ufb33': 1, '\u{1F600}': 2 });
    expect(out).toBe('{"\u{1F600}":2,"\ufb33":1}');
  });

  it.each(
    vectors.numbers
      .filter((n) => n.expected !== null)
      .map((n) => [n.ieee754, n.expected!, n.comment] as const),
  )('Appendix B: %s → %s %s', (hex, expected) => {
    const value = fromIeee754Hex(hex);
    expect(canonicalize(value)).toBe(expected);
    expect(canonicalize([value])).toBe(`[${expected}]`);
    expect(canonicalize({ n: value })).toBe(`{"n":${expected}}`);
  });

  it.each(vectors.numbers.filter((n) => n.expected === null).map((n) => [n.ieee754, n.comment] as const))(
    'Appendix B: %s (%s) is rejected',
    (hex) => {
      const value = fromIeee754Hex(hex);
      expect(thrown(() => canonicalize({ x: value })).reason).toBe('non-finite-number');
    },
  );
});

describe('canonicalize: JSON data', () => {
  it('sorts nested keys, no whitespace, arrays keep their order', () => {
    expect(canonicalize({ b: [3, 1, { z: 1, a: [] }], a: { d: null, c: true, e: false }, '': {} })).toBe(
      '{"":{},"a":{"c":true,"d":null,"e":false},"b":[3,1,{"a":[],"z":1}]}',
    );
  });

  it('numbers use ECMAScript Number::toString', () => {
    expect(canonicalize([1.0, -0, 1e21, 1e20, 0.1 + 0.2, 1e-7, 123e-20, -1.5, 2 ** 53 + 2])).toBe(
      '[1,0,1e+21,100000000000000000000,0.30000000000000004,1e-7,1.23e-18,-1.5,9007199254740994]',
    );
  });

  it('escapes strings exactly like JSON.stringify for every BMP code unit that is not a surrogate', () => {
    for (let c = 0; c <= 0xffff; c++) {
      if (c >= 0xd800 && c <= 0xdfff) continue;
      const s = `a${String.fromCharCode(c)}b`;
      expect(canonicalize(s)).toBe(JSON.stringify(s));
    }
    expect(canonicalize('\u2028\u2029\u007f\u0000\u001f\b\f\n\r\t"\\/')).toBe(
      '"\u2028\u2029\u007f\\u0000\\u001f\\b\\f\\n\\r\\t\\"\\\\/"',
    );
  });

  it('accepts well-formed surrogate pairs in values and keys', () => {
    expect(canonicalize({ '😀': '𝄞' })).toBe('{"😀":"𝄞"}');
  });

  it('omits object members whose value is undefined (documented, like JSON.stringify)', () => {
    expect(canonicalize({ a: 1, b: undefined, c: { d: undefined } })).toBe('{"a":1,"c":{}}');
    expect(canonicalize({ a: 1, b: undefined })).toBe(canonicalize({ a: 1 }));
  });

  it('accepts null-prototype objects and repeated (non-circular) references', () => {
    const o = Object.create(null) as Record<string, unknown>;
    o['k'] = 1;
    const shared = { x: [1] };
    expect(canonicalize({ o, p: shared, q: shared, r: [shared, shared] })).toBe(
      '{"o":{"k":1},"p":{"x":[1]},"q":{"x":[1]},"r":[{"x":[1]},{"x":[1]}]}',
    );
  });

  it('matches JSON.stringify of a deep-sorted copy on ordinary data', () => {
    const value = { z: [{ y: 'é', x: [1.5, null] }], a: { c: 'line\nbreak', b: -0.001 } };
    expect(canonicalize(value)).toBe(
      JSON.stringify({ a: { b: -0.001, c: 'line\nbreak' }, z: [{ x: [1.5, null], y: 'é' }] }),
    );
  });
});

describe('canonicalize: rejections carry a typed error and a path', () => {
  it.each([
    ['NaN', { spec: { params: { x: Number.NaN } } }, 'non-finite-number', '$.spec.params.x'],
    ['Infinity', { a: [0, Number.POSITIVE_INFINITY] }, 'non-finite-number', '$.a[1]'],
    ['-Infinity', Number.NEGATIVE_INFINITY, 'non-finite-number', '$'],
    ['undefined in array', { a: [1, undefined] }, 'undefined-in-array', '$.a[1]'],
    // eslint-disable-next-line no-sparse-arrays
    ['hole in array', { a: [1, , 3] }, 'undefined-in-array', '$.a[1]'],
    ['function value', { f: () => 1 }, 'function', '$.f'],
    ['function in array', [() => 1], 'function', '$[0]'],
    ['symbol value', { s: Symbol('x') }, 'symbol', '$.s'],
    ['bigint', { n: { 'odd key': 1n } }, 'bigint', '$.n["odd key"]'],
    ['lone high surrogate', { t: 'ab\ud800' }, 'lone-surrogate', '$.t'],
    ['lone low surrogate', ['\udc00x'], 'lone-surrogate', '$[0]'],
    ['reversed pair', '\ude00\ud83d', 'lone-surrogate', '$'],
    ['lone surrogate in key', { ['k\ud800']: 1 }, 'lone-surrogate', '$["k\\ud800"]'],
    ['Date', { d: new Date(0) }, 'unsupported-object', '$.d'],
    ['Map', { m: new Map() }, 'unsupported-object', '$.m'],
    ['boxed number', { n: Object(1) as unknown }, 'unsupported-object', '$.n'],
    ['class instance', { c: new (class Foo {})() }, 'unsupported-object', '$.c'],
    ['Buffer', { b: Buffer.from('x') }, 'unsupported-object', '$.b'],
    ['symbol key', { [Symbol('k')]: 1 }, 'symbol-key', '$'],
    ['top-level undefined', undefined, 'unsupported-type', '$'],
  ] as const)('%s', (_name, value, reason, path) => {
    const error = thrown(() => canonicalize(value));
    expect(error.reason).toBe(reason);
    expect(error.path).toBe(path);
    expect(error.code).toBe('CANONICALIZATION_ERROR');
    expect(error.message).toContain(path);
  });

  it('rejects circular references', () => {
    const a: Record<string, unknown> = { x: 1 };
    a['self'] = { back: a };
    const error = thrown(() => canonicalize(a));
    expect(error.reason).toBe('circular');
    expect(error.path).toBe('$.self.back');
  });

  it('uses the caller-supplied root name', () => {
    expect(thrown(() => canonicalize({ params: { x: Number.NaN } }, { rootPath: 'spec' })).path).toBe(
      'spec.params.x',
    );
  });
});
