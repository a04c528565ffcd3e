import { z } from 'zod';
import { costUsd, latencyMs, tokenCount } from './bounds.schema';
import {
  isoDateTime,
  JsonObjectSchema,
  promptRef,
  type SchemaKit,
  STRICT_KIT,
  userId,
} from './common.schema';
import { armName, experimentKey, modelName, opaqueId, text } from './text.schema';

/** Longest `requestId` (generation and feedback). */
export const REQUEST_ID_MAX_LENGTH = 256;

export const GENERATION_LOGGED = 'io.llmops.generation.logged.v1';

export const MESSAGE_ROLES = ['system', 'user', 'assistant', 'tool'] as const;

/**
 * `io.llmops.generation.logged.v1` on `llmops.generations.v1` (key: `requestId`).
 *
 * One LLM call made by an application, reported to the feedback service. `requestId` is chosen by
 * the application and is the join key with feedback (`llmops.feedback.v1` uses the same key and
 * partition count, so a generation and its feedback land on the same partition number).
 * `timestamp` is when the application made the call, `receivedAt` when the platform accepted it.
 */
export const buildGenerationLoggedData = (k: SchemaKit) => {
  const message = k.object({
    role: z.enum(MESSAGE_ROLES, { error: 'expected one of system, user, assistant, tool' }),
    content: text(),
  });
  return k.object({
    requestId: opaqueId('request id', REQUEST_ID_MAX_LENGTH),
    experiment: experimentKey().optional(),
    arm: armName().optional(),
    userId: userId().optional(),
    prompt: promptRef(k).optional(),
    model: modelName(),
    input: z
      .union([text(), z.array(message)], {
        error: 'expected a string or an array of { role, content } messages',
      })
      .optional(),
    output: text(),
    latencyMs: latencyMs(),
    usage: k.object({ promptTokens: tokenCount(), completionTokens: tokenCount() }).optional(),
    costUsd: costUsd().optional(),
    metadata: JsonObjectSchema.optional(),
    timestamp: isoDateTime(),
    receivedAt: isoDateTime(),
  });
};

export const GenerationLoggedDataSchema = buildGenerationLoggedData(STRICT_KIT);
export type GenerationLoggedData = z.infer<typeof GenerationLoggedDataSchema>;
export type GenerationMessage = Exclude<NonNullable<GenerationLoggedData['input']>, string>[number];
