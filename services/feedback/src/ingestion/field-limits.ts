import type { ItemRejection } from './item-rejection';

export interface TextField {
  /** Request path, e.g. `comment` or `input.2.content`. */
  path: string;
  value: string | undefined;
  limitBytes: number;
  /** The variable that configures the limit, named in the error so operators and clients know. */
  envVar: string;
}

/**
 * Text limits are in UTF-8 bytes (what Kafka, the broker's max.message.bytes and storage pay for),
 * not characters. The first field over its limit gives a 413 `field_too_large`.
 */
export function checkTextLimits(fields: readonly TextField[]): ItemRejection | undefined {
  for (const f of fields) {
    if (f.value === undefined) continue;
    // Cheap exit: a UTF-8 encoding is at most 3 bytes per UTF-16 code unit.
    if (f.value.length * 3 <= f.limitBytes) continue;
    const bytes = Buffer.byteLength(f.value, 'utf8');
    if (bytes > f.limitBytes) {
      return {
        status: 413,
        code: 'field_too_large',
        message: `${f.path} is ${bytes} bytes (UTF-8); the limit is ${f.limitBytes} bytes (${f.envVar})`,
        details: { path: f.path, bytes, limitBytes: f.limitBytes },
      };
    }
  }
  return undefined;
}

/** The serialized event must fit in one Kafka record batch (see FEEDBACK_MAX_EVENT_BYTES). */
export function checkEventSize(serialized: string, limitBytes: number): ItemRejection | undefined {
  if (serialized.length * 3 <= limitBytes) return undefined;
  const bytes = Buffer.byteLength(serialized, 'utf8');
  if (bytes <= limitBytes) return undefined;
  return {
    status: 413,
    code: 'event_too_large',
    message: `the resulting event is ${bytes} bytes; the limit is ${limitBytes} bytes (FEEDBACK_MAX_EVENT_BYTES). Shorten input, output or metadata.`,
    details: { bytes, limitBytes },
  };
}
