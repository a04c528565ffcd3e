/**
 * The one request-body parser of every route (Nest controllers and direct routes): JSON only, sent
 * as UTF-8, and checked before any schema sees it:
 *  - the bytes are well-formed UTF-8 (`invalid_utf8`), never decoded with U+FFFD replacements;
 *  - the text is JSON (`invalid_json`, also for `__proto__` and `constructor.prototype` keys);
 *  - no array or object nests deeper than the service's HTTP_JSON_MAX_DEPTH (`json_too_deep`);
 *  - no string value or object key holds a lone UTF-16 surrogate (`invalid_unicode`), which a
 *    `\ud800` escape produces.
 * Any other content type with a body is a 415; an empty body of any type is no body (a bodyless
 * POST such as `curl -X POST -d ''`), and the route's schema decides whether it needs one.
 */
import { isUtf8 } from 'node:buffer';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors/app-error';

/** String.prototype.isWellFormed (Node 20; ES2024, newer than this project's TypeScript lib). */
function isWellFormed(s: string): boolean {
  return (s as string & { isWellFormed(): boolean }).isWellFormed();
}

/** The default HTTP_JSON_MAX_DEPTH. */
export const DEFAULT_JSON_MAX_DEPTH = 64;

/** The first thing in a parsed body that the platform refuses, and where it is. */
export interface JsonBodyOffence {
  code: 'json_too_deep' | 'invalid_unicode';
  /** Keys and indexes from the root to the offending value (or key). */
  path: Array<string | number>;
}

/**
 * The first offence in `value` in document order, or null: an array or object nested more than
 * `maxDepth` levels (the root container is level 1), or a string value or object key that is not
 * well-formed UTF-16. Recursion stops at `maxDepth + 1` levels, so any depth of input is safe for a
 * bounded `maxDepth`; the path is built only when an offence is found. With `checkText` false the
 * strings are not looked at (the caller knows they are well-formed).
 */
export function findJsonBodyOffence(
  value: unknown,
  maxDepth: number,
  checkText = true,
): JsonBodyOffence | null {
  if (typeof value === 'string') {
    return checkText && !isWellFormed(value) ? { code: 'invalid_unicode', path: [] } : null;
  }
  return typeof value === 'object' && value !== null ? visit(value, 0, maxDepth, checkText) : null;
}

/** `container` is at level depth + 1. */
function visit(
  container: object,
  depth: number,
  maxDepth: number,
  checkText: boolean,
): JsonBodyOffence | null {
  if (depth >= maxDepth) return { code: 'json_too_deep', path: [] };
  if (Array.isArray(container)) {
    for (let i = 0; i < container.length; i++) {
      const found = visitItem(container[i], depth, maxDepth, checkText);
      if (found !== null) {
        found.path.unshift(i);
        return found;
      }
    }
    return null;
  }
  const record = container as Record<string, unknown>;
  for (const key in record) {
    if (checkText && !isWellFormed(key)) return { code: 'invalid_unicode', path: [key] };
    const found = visitItem(record[key], depth, maxDepth, checkText);
    if (found !== null) {
      found.path.unshift(key);
      return found;
    }
  }
  return null;
}

/** An array item or property value of a container at level depth + 1. */
function visitItem(
  item: unknown,
  depth: number,
  maxDepth: number,
  checkText: boolean,
): JsonBodyOffence | null {
  if (typeof item === 'object') return item === null ? null : visit(item, depth + 1, maxDepth, checkText);
  if (checkText && typeof item === 'string' && !isWellFormed(item))
    return { code: 'invalid_unicode', path: [] };
  return null;
}

/**
 * A JSON path as the validation errors write it (`items.0.userId`; the root is ''), lone surrogates
 * of keys written as `\uXXXX`.
 */
function pathText(path: ReadonlyArray<string | number>): string {
  return path
    .map((segment) =>
      typeof segment === 'number' || isWellFormed(segment)
        ? String(segment)
        : segment.replace(/[\ud800-\udfff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
    )
    .join('.');
}

/**
 * The details of a body refused before its schema: the path, and the same `issues` list that
 * validation_failed carries, so a client reads field errors one way.
 */
function bodyDetails(
  path: string,
  message: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { ...extra, path, issues: [{ path, message }] };
}

export class InvalidUtf8Error extends AppError {
  constructor() {
    super(400, 'invalid_utf8', 'The request body is not well-formed UTF-8; send the JSON encoded as UTF-8.');
  }
}

export class JsonTooDeepError extends AppError {
  constructor(maxDepth: number, path: ReadonlyArray<string | number>) {
    const at = pathText(path);
    super(
      400,
      'json_too_deep',
      `The request body nests arrays and objects more than ${maxDepth} levels deep (at ${at || '(body)'}); ` +
        `send at most ${maxDepth} levels (the service's HTTP_JSON_MAX_DEPTH).`,
      bodyDetails(at, `nested more than ${maxDepth} levels deep`, { maxDepth }),
    );
  }
}

export class InvalidUnicodeError extends AppError {
  constructor(path: ReadonlyArray<string | number>) {
    const at = pathText(path);
    super(
      400,
      'invalid_unicode',
      `The request body has a lone UTF-16 surrogate (an unpaired \\ud800-\\udfff escape) at ${at || '(body)'}; ` +
        'send well-formed Unicode text.',
      bodyDetails(at, 'contains a lone UTF-16 surrogate'),
    );
  }
}

export class UnsupportedMediaTypeError extends AppError {
  constructor(message = 'Send the body as application/json.') {
    super(415, 'unsupported_media_type', message);
  }
}

/**
 * Throws the platform's error for the first offence in a body parsed from `text`, if any. Only a
 * `\u` escape can make a lone surrogate in JSON decoded from well-formed UTF-8, so without one in
 * the text the strings are not looked at.
 */
export function assertJsonBodyAcceptable(value: unknown, maxDepth: number, text?: string): void {
  const offence = findJsonBodyOffence(value, maxDepth, text === undefined || text.includes('\\u'));
  if (offence === null) return;
  throw offence.code === 'json_too_deep'
    ? new JsonTooDeepError(maxDepth, offence.path)
    : new InvalidUnicodeError(offence.path);
}

const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)"?/i;

/** The charset parameter of a Content-Type header, lower-cased, or undefined when it has none. */
function charsetOf(contentType: string | undefined): string | undefined {
  if (contentType === undefined || contentType.length <= 'application/json'.length) return undefined;
  const match = CHARSET.exec(contentType);
  return match ? match[1].toLowerCase() : undefined;
}

function hasNoBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] === undefined && (length === undefined || length === '0');
}

export interface JsonBodyParserOptions {
  /** HTTP_JSON_MAX_DEPTH: deepest accepted nesting of arrays and objects. */
  maxDepth: number;
}

export type JsonBodyParser = (
  request: FastifyRequest,
  body: Buffer,
  done: (err: Error | null, body?: unknown) => void,
) => void;

/** The platform's application/json parser (bytes in, checked value out), for `fastify`. */
export function jsonBodyParser(fastify: FastifyInstance, options: JsonBodyParserOptions): JsonBodyParser {
  const { maxDepth } = options;
  // fastify's own JSON.parse with prototype-poisoning protection (what Nest's parser used).
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  return (request, body, done) => {
    const charset = charsetOf(request.headers['content-type']);
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      done(
        new UnsupportedMediaTypeError(
          `Send the body as application/json in UTF-8 (charset=utf-8 or no charset), not charset=${charset}.`,
        ),
      );
      return;
    }
    if (body.length === 0) {
      done(null, undefined);
      return;
    }
    if (!isUtf8(body)) {
      done(new InvalidUtf8Error());
      return;
    }
    const text = body.toString('utf8');
    // Synchronous: it calls back before returning.
    void parseJson(request, text, (err, value) => {
      if (err) {
        done(err);
        return;
      }
      try {
        assertJsonBodyAcceptable(value, maxDepth, text);
      } catch (offence) {
        done(offence as Error);
        return;
      }
      done(null, value);
    });
  };
}

/**
 * Replaces every body parser of `fastify` (its JSON and text/plain defaults, and any other) with
 * the platform's JSON parser and a catch-all that answers 415 to a body of any other type. Call it
 * before routes are registered; per-route body limits still apply.
 */
export function installJsonBodyParser(fastify: FastifyInstance, options: JsonBodyParserOptions): void {
  const parser = jsonBodyParser(fastify, options);
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, parser);
  // Every other type (and a body without a Content-Type): no body is fine, any body is a 415. The
  // body is not read: the error closes the connection.
  fastify.addContentTypeParser('*', (request: FastifyRequest, _payload: unknown, done) => {
    if (hasNoBody(request)) done(null, undefined);
    else done(new UnsupportedMediaTypeError());
  });
}
