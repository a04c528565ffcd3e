import { z } from 'zod';
import {
  experimentKey,
  isoDateTime,
  JsonObjectSchema,
  nonEmpty,
  nonNegativeFinite,
  nonNegativeInt,
  promptRef,
  type SchemaKit,
  STRICT_KIT,
  userId,
} from './common.schema';

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
    content: z.string({ error: 'expected a string' }),
  });
  return k.object({
    requestId: nonEmpty('request id', 256),
    experiment: experimentKey().optional(),
    arm: nonEmpty('arm name', 128).optional(),
    userId: userId().optional(),
    prompt: promptRef(k).optional(),
    model: nonEmpty('model name'),
    input: z
      .union([z.string(), z.array(message)], {
        error: 'expected a string or an array of { role, content } messages',
      })
      .optional(),
    output: z.string({ error: 'expected a string' }),
    latencyMs: nonNegativeFinite(),
    usage: k.object({ promptTokens: nonNegativeInt(), completionTokens: nonNegativeInt() }).optional(),
    costUsd: nonNegativeFinite().optional(),
    metadata: JsonObjectSchema.optional(),
    timestamp: isoDateTime(),
    receivedAt: isoDateTime(),
  });
};

export const GenerationLoggedDataSchema = buildGenerationLoggedData(STRICT_KIT);
export type GenerationLoggedData = z.infer<typeof GenerationLoggedDataSchema>;
export type GenerationMessage = Exclude<NonNullable<GenerationLoggedData['input']>, string>[number];
