import { InvalidCursorError } from './prompts.errors';

/** Opaque page cursors: base64url JSON, so clients cannot come to depend on their content. */
export function encodeCursor(value: string | number): string {
  return Buffer.from(JSON.stringify({ k: value }), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined, kind: 'string'): string | undefined;
export function decodeCursor(cursor: string | undefined, kind: 'number'): number | undefined;
export function decodeCursor(
  cursor: string | undefined,
  kind: 'string' | 'number',
): string | number | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { k?: unknown };
    if (kind === 'number' && typeof parsed.k === 'number' && Number.isInteger(parsed.k)) return parsed.k;
    if (kind === 'string' && typeof parsed.k === 'string') return parsed.k;
  } catch {
    // fall through
  }
  throw new InvalidCursorError();
}
