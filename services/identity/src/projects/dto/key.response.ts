import { z } from 'zod';
import type { ApiKey } from '../../persistence/api-key.repository';

const keyFields = {
  keyId: z.string().describe('Public id of the key: it names the key in logs and the audit trail'),
  project: z.string(),
  name: z.string(),
  scopes: z.array(z.string()),
  aliases: z.array(z.string()).nullable().describe('Aliases the key may move; null = any'),
  expiresAt: z.string().nullable(),
  createdAt: z.string(),
};

export const keyResponseSchema = z.object({
  ...keyFields,
  createdBy: z.string().describe('Key id that created this key (system:identity for the bootstrap key)'),
  revokedAt: z.string().nullable(),
  lastUsedAt: z
    .string()
    .nullable()
    .describe('Coarse: the last request this key made to the identity service itself (see the README)'),
});

export const createdKeyResponseSchema = z.object({
  key: z.string().describe('The whole key, llmk_<keyId>_<secret>: shown only in this answer, never again'),
  ...keyFields,
});

export const keyListResponseSchema = z.object({
  items: z.array(keyResponseSchema),
  nextCursor: z.string().nullable(),
});

export type KeyResponse = z.infer<typeof keyResponseSchema>;
export type CreatedKeyResponse = z.infer<typeof createdKeyResponseSchema>;
export type KeyListResponse = z.infer<typeof keyListResponseSchema>;

/** What a key's owner may see: never its hash (and the secret is not stored at all). */
export function toKeyResponse(k: ApiKey): KeyResponse {
  return {
    keyId: k.keyId,
    project: k.project,
    name: k.name,
    scopes: k.scopes,
    aliases: k.aliases ?? null,
    expiresAt: k.expiresAt,
    createdAt: k.createdAt,
    createdBy: k.createdBy,
    revokedAt: k.revokedAt,
    lastUsedAt: k.lastUsedAt,
  };
}
