import { z } from 'zod';
import { projectId } from '../project';
import { doc, isoDateTime, type SchemaKit, STRICT_KIT } from './common.schema';
import { aliasName, nonEmptyText, patterned } from './text.schema';

export const API_KEY_UPDATED = 'io.llmops.identity.api-key.updated.v1';

/** Public id of an API key (`llmk_<keyId>_<secret>`): 20 lowercase hex characters. */
const KEY_ID_PATTERN = /^[0-9a-f]{20}$/;

/** A scope name as the contract carries it (see `SCOPES`; an unknown one grants nothing). */
const SCOPE_NAME_PATTERN = /^[a-z][a-z-]*(?::[a-z][a-z-]*)?$/;

/** HMAC-SHA-256 of a key's secret keyed with the platform pepper, base64url without padding. */
const KEY_SECRET_HASH_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * `io.llmops.identity.api-key.updated.v1` on `llmops.identity.api-keys.v1` (COMPACTED, key: keyId).
 *
 * The full state of one API key, published by the identity service after every change (created,
 * revoked, its project deleted). The newest record per keyId is the key's state, so every service
 * rebuilds its key directory by reading the compacted topic from the start. Only the peppered hash of
 * the secret travels; the secret itself is shown once to the key's owner and never stored.
 */
export const buildApiKeyUpdatedData = (k: SchemaKit) =>
  k.object({
    keyId: doc(patterned('a key id', KEY_ID_PATTERN), 'Public id of the key (20 lowercase hex).'),
    project: doc(projectId(), 'The one project the key acts on.'),
    name: doc(nonEmptyText('key name', 128), "The owner's label for the key."),
    scopes: doc(
      z.array(patterned('a scope', SCOPE_NAME_PATTERN), { error: 'expected an array of scopes' }).max(32, {
        error: 'expected at most 32 scopes',
      }),
      'Scopes the key holds (see SCOPES); a scope this version does not know grants nothing.',
    ),
    aliases: doc(
      z.array(aliasName(), { error: 'expected an array of alias names' }).max(64, {
        error: 'expected at most 64 aliases',
      }),
      'Aliases the key may move with prompts:promote; absent = any alias.',
    ).optional(),
    secretHash: doc(
      patterned('a secret hash', KEY_SECRET_HASH_PATTERN),
      'HMAC-SHA-256 of the secret keyed with LLMOPS_KEY_PEPPER, base64url.',
    ),
    createdAt: isoDateTime(),
    expiresAt: doc(isoDateTime().nullable(), 'The key stops working at this instant; null = never.'),
    revokedAt: doc(isoDateTime().nullable(), 'When the key was revoked; null = not revoked.'),
    projectDeleted: doc(
      z.boolean({ error: 'expected a boolean' }),
      "The key's project was deleted: the key no longer authenticates.",
    ),
  });

export const ApiKeyUpdatedDataSchema = buildApiKeyUpdatedData(STRICT_KIT);
export type ApiKeyUpdatedData = z.infer<typeof ApiKeyUpdatedDataSchema>;
