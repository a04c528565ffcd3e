import { specVariables } from '@llmops/prompts';
import { z } from 'zod';
import type { PromptVersion } from '../../domain/prompt-version';
import { promptMetadataSchema, promptSpecSchema } from '../../domain/prompt-spec';

const hash = z.string().regex(/^[0-9a-f]{64}$/);
const shortHash = z.string().regex(/^[0-9a-f]{12}$/);

export const registerVersionResponseSchema = z.object({
  name: z.string(),
  hash,
  shortHash,
  version: z.number().int().min(1),
  createdAt: z.iso.datetime(),
  created: z
    .boolean()
    .describe('true (201) for a new version, false (200) when the spec was already registered'),
});
export type RegisterVersionResponse = z.infer<typeof registerVersionResponseSchema>;

export const versionResponseSchema = z.object({
  name: z.string(),
  hash,
  shortHash,
  version: z.number().int().min(1),
  createdAt: z.iso.datetime(),
  spec: promptSpecSchema,
  metadata: promptMetadataSchema.optional(),
  variables: z.array(z.string()).describe('Template placeholders used anywhere in the spec'),
});
export type VersionResponse = z.infer<typeof versionResponseSchema>;

export const versionListResponseSchema = z.object({
  items: z.array(versionResponseSchema.omit({ spec: true, variables: true })),
  nextCursor: z.string().nullable(),
});

export function toVersionResponse(v: PromptVersion): VersionResponse {
  return {
    name: v.name,
    hash: v.hash,
    shortHash: v.shortHash,
    version: v.version,
    createdAt: v.createdAt,
    spec: v.spec,
    ...(v.metadata ? { metadata: v.metadata } : {}),
    variables: specVariables(v.spec),
  };
}

export const promptListResponseSchema = z.object({
  items: z.array(
    z.object({
      name: z.string(),
      latest: z.object({ version: z.number(), hash, createdAt: z.iso.datetime() }),
      aliases: z.record(z.string(), z.object({ hash, version: z.number(), movedAt: z.iso.datetime() })),
    }),
  ),
  nextCursor: z.string().nullable(),
});

export const aliasResponseSchema = z.object({
  name: z.string(),
  alias: z.string(),
  hash,
  shortHash,
  version: z.number(),
  previous: hash.nullable(),
  rev: z.number().describe('Move number of this alias (1 = created)'),
  movedAt: z.iso.datetime(),
  actor: z.string().describe('The id of the API key that moved it'),
  note: z.string().optional().describe('Free text given with the move'),
  moved: z.boolean().describe('false when the alias already pointed at the target (nothing recorded)'),
});
export type AliasResponse = z.infer<typeof aliasResponseSchema>;

export const aliasHistoryResponseSchema = z.object({
  name: z.string(),
  alias: z.string(),
  items: z.array(
    z.object({
      rev: z.number(),
      movedAt: z.iso.datetime(),
      from: hash.nullable(),
      fromVersion: z.number().nullable(),
      to: hash,
      toVersion: z.number(),
      actor: z
        .string()
        .describe(
          'The id of the API key that made the move (`unauthenticated` for moves recorded before API keys)',
        ),
      note: z
        .string()
        .optional()
        .describe('Free text given with the move (for older moves: the actor they claimed)'),
    }),
  ),
  nextCursor: z.string().nullable(),
});
export type AliasHistoryResponse = z.infer<typeof aliasHistoryResponseSchema>;
