/**
 * A prompt version's settings: its spec without the prompt text. The registry owns the spec and
 * hashes all of it; the MLflow export needs what configures the model call (model, sampling params,
 * response format, tools), never the text, which is long, may be sensitive and is the version's
 * hash anyway.
 */
import type { JsonValue } from '@llmops/contracts';

/** Spec fields that hold the prompt's text. */
const TEXT_FIELDS = new Set(['template', 'messages', 'system', 'fewShot']);

export interface PromptSettings {
  model: string;
  /** Sampling parameters (`params` of the spec), as registered. */
  params: Record<string, JsonValue>;
  /** Every other non-text field of the spec (`responseFormat`, `tools`, ...), as registered. */
  other: Record<string, JsonValue>;
}

const isObject = (v: JsonValue | undefined): v is { [key: string]: JsonValue } =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The settings of `spec`; null when it names no model (not a prompt spec the registry accepts). */
export function promptSettings(spec: JsonValue): PromptSettings | null {
  if (!isObject(spec) || typeof spec.model !== 'string') return null;
  const other: Record<string, JsonValue> = {};
  for (const [field, value] of Object.entries(spec)) {
    if (field !== 'model' && field !== 'params' && !TEXT_FIELDS.has(field)) other[field] = value;
  }
  return { model: spec.model, params: isObject(spec.params) ? spec.params : {}, other };
}
