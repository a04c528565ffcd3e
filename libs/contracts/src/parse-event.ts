import { compiledEnvelopeCheck, mayCheckCompiled } from './compiled-check';
import {
  type AnyCloudEvent,
  type ParseEventOptions,
  safeValidateEvent,
  type SafeParseEventResult,
} from './envelope';
import { ALL_EVENT_TYPES, type EventType, isEventType } from './event-types';
import { ContractValidationError } from './validation-error';

/**
 * Like `parseEvent`, but returns the error instead of throwing.
 *
 * A valid record is usually recognised by the envelope's compiled check (compiled-check.ts), which
 * gives zod's verdict and value (the parsed JSON itself, keys in the order received) for a fraction
 * of its CPU; anything it does not accept is decided by zod, so errors are zod's.
 */
export function safeParseEvent(
  raw: string | Uint8Array,
  options: ParseEventOptions = {},
): SafeParseEventResult {
  const fromString = typeof raw === 'string';
  const text = fromString
    ? raw
    : Buffer.isBuffer(raw)
      ? raw.toString('utf8')
      : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return {
      ok: false,
      error: new ContractValidationError([{ path: '', message: `malformed JSON: ${reason}` }]),
    };
  }
  const type = (value as { type?: unknown } | null)?.type;
  if (isEventType(type) && mayCheckCompiled(text, fromString) && compiledEnvelopeCheck(type)?.(value)) {
    return { ok: true, event: value as AnyCloudEvent };
  }
  return safeValidateEvent(value, options);
}

/**
 * Compiles the checks `safeParseEvent` uses for `types` now instead of on the first record of each:
 * a consumer calls it while it boots, so that its first batch does not pay for the compilation
 * (tens of milliseconds of CPU for the analytics topics).
 */
export function precompileEventChecks(types: readonly EventType[] = ALL_EVENT_TYPES): void {
  for (const type of types) compiledEnvelopeCheck(type);
}

/**
 * Parses a Kafka record value (JSON text or bytes) into a typed event; switch on `event.type` to narrow
 * `event.data`. Throws `ContractValidationError` for malformed JSON, an unknown type or invalid data.
 */
export function parseEvent(raw: string | Uint8Array, options: ParseEventOptions = {}): AnyCloudEvent {
  const result = safeParseEvent(raw, options);
  if (!result.ok) throw result.error;
  return result.event;
}
