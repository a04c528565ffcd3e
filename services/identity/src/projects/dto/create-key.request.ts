import { aliasName, nonEmptyText, SCOPES } from '@llmops/contracts';
import { z } from 'zod';

export const createKeyRequestSchema = z.strictObject({
  name: nonEmptyText('key name', 128).describe('What the key is for, e.g. "checkout-service (prod)".'),
  scopes: z
    .array(z.enum(SCOPES, { error: `expected one of ${SCOPES.join(', ')}` }), {
      error: 'expected an array of scopes',
    })
    .min(1, { error: 'expected at least one scope' })
    .max(SCOPES.length, { error: `expected at most ${SCOPES.length} scopes` })
    .describe('What the key may do; grant only what the caller needs.'),
  aliases: z
    .array(aliasName(), { error: 'expected an array of alias names' })
    .min(1, { error: 'expected at least one alias (omit the field for any alias)' })
    .max(64, { error: 'expected at most 64 aliases' })
    .optional()
    .describe('With prompts:promote: the only aliases the key may move. Omitted = any alias.'),
  expiresAt: z.iso
    .datetime({ offset: true, error: 'expected an ISO 8601 date-time, e.g. 2027-01-31T00:00:00Z' })
    .optional()
    .describe('The key stops working at this instant (must be in the future). Omitted = never.'),
});

export type CreateKeyRequest = z.infer<typeof createKeyRequestSchema>;
