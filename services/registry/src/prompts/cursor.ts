import { decodeCursor as decodePageCursor, encodeCursor as encodePageCursor } from '@llmops/platform';
import { z } from 'zod';

/** Opaque page cursors (the platform's): a prompt name, or a version number. */
export function encodeCursor(value: string | number): string {
  return encodePageCursor(value);
}

export function decodeCursor(cursor: string | undefined, kind: 'string'): string | undefined;
export function decodeCursor(cursor: string | undefined, kind: 'number'): number | undefined;
export function decodeCursor(
  cursor: string | undefined,
  kind: 'string' | 'number',
): string | number | undefined {
  return kind === 'string'
    ? decodePageCursor(cursor, z.string())
    : decodePageCursor(cursor, z.number().int());
}
