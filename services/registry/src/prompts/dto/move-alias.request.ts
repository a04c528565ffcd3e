import { AUDIT_NOTE_MAX_LENGTH, opaqueId, text } from '@llmops/contracts';
import { z } from 'zod';

export const moveAliasRequestSchema = z.strictObject({
  ref: opaqueId('version ref (hash, hash prefix, version number or alias)', 128),
  expected: z
    .string({ error: 'expected the full hash the alias points at now' })
    .regex(/^[0-9a-f]{64}$/, { error: 'expected 64 lowercase hex characters (the current full hash)' })
    .nullable()
    .optional()
    .describe(
      'Compare-and-set: the full hash the alias must point at now; null = the alias must not exist yet.',
    ),
  note: text('a note', AUDIT_NOTE_MAX_LENGTH)
    .optional()
    .describe('Free text kept with the move in its history and audit record, e.g. why it was moved.'),
});

export type MoveAliasRequest = z.infer<typeof moveAliasRequestSchema>;
