/**
 * The prompt spec: everything in it is the version's identity (hash = SHA-256 of its RFC 8785
 * canonical JSON). Strict, so a typo such as `temprature` at the spec level is an error instead of a
 * silently different version; `params`, `responseFormat` and `tools` are arbitrary JSON because
 * providers keep adding sampling parameters. No defaults are applied: what the client sends (after
 * validation) is exactly what is hashed, so any client can compute the same id offline.
 */
import { JsonObjectSchema, modelName, nonEmptyText, PROMPT_NAME_PATTERN, text } from '@llmops/contracts';
import { z } from 'zod';

/** Prompt names: the contracts' PROMPT_NAME_PATTERN (also the prompt topics' key). */
export const NAME_PATTERN = PROMPT_NAME_PATTERN;

export const MESSAGE_ROLES = ['system', 'user', 'assistant'] as const;

export const promptMessageSchema = z.strictObject({
  role: z.enum(MESSAGE_ROLES, { error: 'expected "system", "user" or "assistant"' }),
  content: text(),
});

export const fewShotExampleSchema = z.strictObject({
  input: text(),
  output: text(),
});

export const promptSpecSchema = z
  .strictObject({
    template: text()
      .min(1, { error: 'the template must not be empty' })
      .optional()
      .describe('Text template with {variable} placeholders; {{ and }} are literal braces.'),
    messages: z
      .array(promptMessageSchema, { error: 'expected an array of { role, content }' })
      .min(1, { error: 'messages must hold at least one message' })
      .optional()
      .describe('Chat messages; content may use {variable} placeholders.'),
    model: modelName(),
    params: JsonObjectSchema.optional().describe(
      'Sampling parameters (temperature, max_tokens, top_p, stop, seed, ...), arbitrary JSON values.',
    ),
    system: text().optional(),
    fewShot: z.array(fewShotExampleSchema, { error: 'expected an array of { input, output }' }).optional(),
    responseFormat: JsonObjectSchema.optional(),
    tools: z.array(JsonObjectSchema, { error: 'expected an array of JSON objects' }).optional(),
  })
  .superRefine((spec, ctx) => {
    const hasTemplate = spec.template !== undefined;
    const hasMessages = spec.messages !== undefined;
    if (hasTemplate === hasMessages) {
      ctx.addIssue({
        code: 'custom',
        path: hasTemplate ? ['messages'] : ['template'],
        message: hasTemplate
          ? 'give either template or messages, not both'
          : 'a spec needs a template (text) or messages (chat)',
      });
    }
  })
  // The rule above, for the JSON Schema of the API documents.
  .meta({ oneOf: [{ required: ['template'] }, { required: ['messages'] }] });

export type PromptSpec = z.infer<typeof promptSpecSchema>;
export type PromptMessage = z.infer<typeof promptMessageSchema>;

/** Stored with a version but NOT part of its identity. */
export const promptMetadataSchema = z.strictObject({
  author: text('a string', 256).optional(),
  description: text('a string', 4096).optional(),
  tags: z
    .array(nonEmptyText('tag', 64), { error: 'expected an array of strings' })
    .max(64, { error: 'expected at most 64 tags' })
    .optional(),
});

export type PromptMetadata = z.infer<typeof promptMetadataSchema>;
