import { z } from 'zod';
import {
  doc,
  isoDateTime,
  JsonObjectSchema,
  JsonValueSchema,
  positiveInt,
  promptHash,
  type SchemaKit,
  shortHash,
  STRICT_KIT,
} from './common.schema';
import { promptName } from './text.schema';

export const PROMPT_VERSION_REGISTERED = 'io.llmops.prompt.version.registered.v1';

/**
 * `io.llmops.prompt.version.registered.v1` on `llmops.prompt-versions.v1` (key: prompt name).
 *
 * A new immutable prompt version was stored by the registry. `hash` is the SHA-256 of the canonical
 * spec, so registering the same spec twice yields the same hash (and the same event id): consumers
 * dedupe by envelope `id` and may treat `(name, hash)` as a natural key. `version` is the per-name
 * sequence number (1, 2, ...). `spec` is the full prompt spec as arbitrary JSON.
 */
export const buildPromptVersionRegisteredData = (k: SchemaKit) =>
  k.object({
    name: promptName(),
    hash: doc(promptHash(), 'SHA-256 of the canonical prompt spec, 64 lowercase hex.'),
    shortHash: shortHash(),
    version: doc(positiveInt('integer version'), 'Per-name sequence number, starting at 1.'),
    spec: doc(JsonValueSchema, 'The full prompt spec (arbitrary JSON).'),
    metadata: JsonObjectSchema.optional(),
    createdAt: isoDateTime(),
  });

export const PromptVersionRegisteredDataSchema = buildPromptVersionRegisteredData(STRICT_KIT);
export type PromptVersionRegisteredData = z.infer<typeof PromptVersionRegisteredDataSchema>;
