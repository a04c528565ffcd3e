import { CanonicalizationError } from './errors';
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
  const out: string[] = [];
  serialize(value, options.rootPath ?? '$', out, new Set<object>());
  return out.join('');
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function childPath(path: string, key: string): string {
  return IDENTIFIER.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function serializeString(s: string, path: string, what: string): string {
  const bad = firstLoneSurrogate(s);
  if (bad !== -1) {
    const unit = s.charCodeAt(bad).toString(16).padStart(4, '0');
    throw new CanonicalizationError(
      'lone-surrogate',
      path,
      `${what} contains a lone surrogate \\u${unit} at index ${bad} (not valid I-JSON / UTF-8)`,
    );
  }
  return JSON.stringify(s);
}

function serialize(value: unknown, path: string, out: string[], stack: Set<object>): void {
  switch (typeof value) {
    case 'string':
      out.push(serializeString(value, path, 'string'));
      return;
    case 'number':
      if (!Number.isFinite(value)) {
        throw new CanonicalizationError('non-finite-number', path, `${String(value)} is not a finite number`);
      }
      // For finite numbers JSON.stringify is exactly ECMAScript Number::toString, except that
      // it already maps -0 to "0", as RFC 8785 requires.
      out.push(JSON.stringify(value));
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'bigint':
      throw new CanonicalizationError(
        'bigint',
        path,
        'bigint is not JSON; convert to number or string explicitly',
      );
    case 'function':
      throw new CanonicalizationError('function', path, 'functions are not JSON');
    case 'symbol':
      throw new CanonicalizationError('symbol', path, 'symbols are not JSON');
    case 'undefined':
      throw new CanonicalizationError('unsupported-type', path, 'undefined is not JSON');
    case 'object':
      break;
    default:
      throw new CanonicalizationError('unsupported-type', path, `unsupported type ${typeof value}`);
  }
  if (value === null) {
    out.push('null');
    return;
  }
  if (stack.has(value)) {
    throw new CanonicalizationError('circular', path, 'circular reference');
  }
  stack.add(value);
  if (Array.isArray(value)) {
    out.push('[');
    for (let i = 0; i < value.length; i++) {
      const itemPath = `${path}[${i}]`;
      const item: unknown = value[i];
      if (item === undefined) {
        throw new CanonicalizationError(
          'undefined-in-array',
          itemPath,
          'undefined (or a hole) inside an array is rejected; use null explicitly',
        );
      }
      if (i > 0) out.push(',');
      serialize(item, itemPath, out, stack);
    }
    out.push(']');
  } else {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      const ctor = (value as { constructor?: { name?: unknown } }).constructor?.name;
      throw new CanonicalizationError(
        'unsupported-object',
        path,
        `only plain objects and arrays are supported, got ${typeof ctor === 'string' ? ctor : 'a non-plain object'}`,
      );
    }
    const symbols = Object.getOwnPropertySymbols(value).filter((s) =>
      Object.prototype.propertyIsEnumerable.call(value, s),
    );
    if (symbols.length > 0) {
      throw new CanonicalizationError('symbol-key', path, 'symbol-keyed properties are not JSON');
    }
    const record = value as Record<string, unknown>;
    // Default Array.prototype.sort compares strings by UTF-16 code units: exactly RFC 8785 §3.2.3.
    const keys = Object.keys(record).sort();
    out.push('{');
    let first = true;
    for (const key of keys) {
      const member = record[key];
      if (member === undefined) continue; // omitted, like JSON.stringify (documented above)
      const memberPath = childPath(path, key);
      const keyJson = serializeString(key, memberPath, 'key');
      if (!first) out.push(',');
      first = false;
      out.push(keyJson, ':');
      serialize(member, memberPath, out, stack);
    }
    out.push('}');
  }
  stack.delete(value);
}
