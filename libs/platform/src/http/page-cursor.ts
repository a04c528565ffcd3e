/**
 * Cursor pagination shared by every list endpoint: `?limit=&cursor=`, answered with
 * `{ items, nextCursor }`. Cursors are opaque (base64url JSON), so clients cannot come to depend on
 * their content; a list reads the page after the cursor's key through an index, never by skipping.
 */
import { z } from 'zod';
import { AppError } from '../errors/app-error';

export class InvalidCursorError extends AppError {
  constructor() {
    super(
      400,
      'invalid_cursor',
      'The cursor is not valid: pass the nextCursor of the previous page unchanged.',
    );
  }
}

export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify({ k: value }), 'utf8').toString('base64url');
}

/** The key a cursor carries, checked against `schema`; undefined without a cursor, 400 invalid_cursor if bad. */
export function decodeCursor<S extends z.ZodType>(
  cursor: string | undefined,
  schema: S,
): z.infer<S> | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { k?: unknown };
    const key = schema.safeParse(parsed.k);
    if (key.success) return key.data;
  } catch {
    // fall through
  }
  throw new InvalidCursorError();
}

/** `?limit=&cursor=` with nothing else allowed (an unknown parameter is a 400, not silently ignored). */
export function pageQuerySchema(maxLimit = 100, defaultLimit = 20) {
  const error = `expected an integer 1-${maxLimit}`;
  return z.strictObject({
    limit: z.coerce
      .number({ error })
      .int({ error })
      .min(1, { error })
      .max(maxLimit, { error })
      .default(defaultLimit),
    cursor: z.string().min(1).max(512).optional(),
  });
}
