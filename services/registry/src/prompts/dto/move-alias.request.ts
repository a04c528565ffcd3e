import { opaqueId } from '@llmops/contracts';
import { parseOrThrow } from '@llmops/platform';
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
  actor: opaqueId('actor', 256).optional().describe('Who moves the alias (defaults to the x-actor header).'),
});

export type MoveAliasRequest = z.infer<typeof moveAliasRequestSchema>;

/** The `x-actor` header (cut to 256 characters), an opaque id like the body's `actor`. */
export const actorHeaderSchema = z.object({ headers: z.object({ 'x-actor': opaqueId('actor', 256) }) });

/** The body's actor, else the `x-actor` header's, else `anonymous`; a 400 when the header is no id. */
export function actorOf(request: MoveAliasRequest, header: string | undefined): string {
  if (request.actor !== undefined) return request.actor;
  if (header === undefined || header === '') return 'anonymous';
  return parseOrThrow(actorHeaderSchema, { headers: { 'x-actor': header.slice(0, 256) } }).headers['x-actor'];
}
