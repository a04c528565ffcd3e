import { CanonicalizationError, type CanonicalizationErrorReason } from './errors';
import { firstLoneSurrogate } from './unicode';

export interface CanonicalizeOptions {
  /** Name of the root value in error paths. Default `$`; promptHash uses `spec`. */
  readonly rootPath?: string;
}

/**
 * RFC 8785 JSON Canonicalization Scheme (JCS).
 *
 * - Objects: members sorted by their keys compared as arrays of UTF-16 code units
 *   (RFC 8785 §3.2.3); no whitespace anywhere.
 * - Numbers: ECMAScript Number::toString (RFC 8785 §3.2.2.3), e.g. 1.0 → `1`, 1e21 → `1e+21`,
 *   -0 → `0`. NaN and ±Infinity are rejected.
 * - Strings: escaped exactly as JSON.stringify does (RFC 8785 §3.2.2.2): `\"`, `\\`, `\b`, `\f`,
 *   `\n`, `\r`, `\t`, other C0 controls as lowercase `\u00xx`, everything else (including
 *   U+2028/U+2029, U+007F, non-ASCII) literally. Lone surrogates are rejected (I-JSON, RFC 7493).
 * - Literals: `null`, `true`, `false`.
 *
 * Deliberate choices beyond the RFC (which only defines canonical forms of JSON data):
 * - An object member whose value is `undefined` is OMITTED, like JSON.stringify, so
 *   `{ a: 1, b: undefined }` and `{ a: 1 }` canonicalize (and hash) identically.
 * - `undefined` (or a hole) inside an array is REJECTED (JSON.stringify would silently write
 *   `null`, which would make `[undefined]` and `[null]` the same prompt version).
 * - Functions, symbols and bigints are rejected wherever they appear (JSON.stringify would drop
 *   or throw inconsistently). A top-level `undefined` is rejected too.
 * - Only plain objects (prototype Object.prototype or null) and arrays are accepted as
 *   containers. Date, Map, Set, class instances, boxed primitives, typed arrays… are rejected
 *   rather than converted via toJSON or serialized as `{}`: a content hash must not depend on
 *   implicit conversions. Convert such values explicitly first.
 * - Own enumerable symbol-keyed properties are rejected; circular references are rejected.
 */
export function canonicalize(value: unknown, options: CanonicalizeOptions = {}): string {
  const state: State = { out: '', root: options.rootPath ?? '$', segments: [], stack: new Set<object>() };
  serialize(value, state);
  return state.out;
}

/**
 * The output so far, and where we are. The path of the current value is kept as segments and only
 * formatted into a string (`$.a["b c"][2]`) when an error is thrown: building it eagerly for every
 * member was most of the cost of hashing small objects.
 */
interface State {
  out: string;
  readonly root: string;
  readonly segments: (string | number)[];
  readonly stack: Set<object>;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const SURROGATE = /[\uD800-\uDFFF]/;

function pathOf(state: State): string {
  let path = state.root;
  for (const seg of state.segments) {
    if (typeof seg === 'number') path += `[${seg}]`;
    else path += IDENTIFIER.test(seg) ? `.${seg}` : `[${JSON.stringify(seg)}]`;
  }
  return path;
}

function fail(state: State, reason: CanonicalizationErrorReason, message: string): never {
  throw new CanonicalizationError(reason, pathOf(state), message);
}

function serializeString(s: string, state: State, what: string): string {
  // Most strings hold no surrogate at all: one native scan instead of a per-character loop.
  const bad = SURROGATE.test(s) ? firstLoneSurrogate(s) : -1;
  if (bad !== -1) {
    const unit = s.charCodeAt(bad).toString(16).padStart(4, '0');
    fail(
      state,
      'lone-surrogate',
      `${what} contains a lone surrogate \\u${unit} at index ${bad} (not valid I-JSON / UTF-8)`,
    );
  }
  return JSON.stringify(s);
}

function serialize(value: unknown, state: State): void {
  switch (typeof value) {
    case 'string':
      state.out += serializeString(value, state, 'string');
      return;
    case 'number':
      if (!Number.isFinite(value))
        fail(state, 'non-finite-number', `${String(value)} is not a finite number`);
      // For finite numbers JSON.stringify is exactly ECMAScript Number::toString, except that
      // it already maps -0 to "0", as RFC 8785 requires.
      state.out += JSON.stringify(value);
      return;
    case 'boolean':
      state.out += value ? 'true' : 'false';
      return;
    case 'bigint':
      return fail(state, 'bigint', 'bigint is not JSON; convert to number or string explicitly');
    case 'function':
      return fail(state, 'function', 'functions are not JSON');
    case 'symbol':
      return fail(state, 'symbol', 'symbols are not JSON');
    case 'undefined':
      return fail(state, 'unsupported-type', 'undefined is not JSON');
    case 'object':
      break;
    default:
      return fail(state, 'unsupported-type', `unsupported type ${typeof value}`);
  }
  if (value === null) {
    state.out += 'null';
    return;
  }
  if (state.stack.has(value)) fail(state, 'circular', 'circular reference');
  state.stack.add(value);
  if (Array.isArray(value)) {
    state.out += '[';
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      state.segments.push(i);
      if (item === undefined) {
        fail(
          state,
          'undefined-in-array',
          'undefined (or a hole) inside an array is rejected; use null explicitly',
        );
      }
      if (i > 0) state.out += ',';
      serialize(item, state);
      state.segments.pop();
    }
    state.out += ']';
  } else {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      const ctor = (value as { constructor?: { name?: unknown } }).constructor?.name;
      fail(
        state,
        'unsupported-object',
        `only plain objects and arrays are supported, got ${typeof ctor === 'string' ? ctor : 'a non-plain object'}`,
      );
    }
    const symbols = Object.getOwnPropertySymbols(value);
    if (symbols.length > 0 && symbols.some((sym) => Object.prototype.propertyIsEnumerable.call(value, sym))) {
      fail(state, 'symbol-key', 'symbol-keyed properties are not JSON');
    }
    const record = value as Record<string, unknown>;
    // Default Array.prototype.sort compares strings by UTF-16 code units: exactly RFC 8785 §3.2.3.
    const keys = Object.keys(record).sort();
    state.out += '{';
    let first = true;
    for (const key of keys) {
      const member = record[key];
      if (member === undefined) continue; // omitted, like JSON.stringify (documented above)
      state.segments.push(key);
      const keyJson = serializeString(key, state, 'key');
      state.out += first ? keyJson : `,${keyJson}`;
      state.out += ':';
      first = false;
      serialize(member, state);
      state.segments.pop();
    }
    state.out += '}';
  }
  state.stack.delete(value);
}
