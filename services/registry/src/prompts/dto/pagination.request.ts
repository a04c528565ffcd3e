import { opaqueId } from '@llmops/contracts';
import { z } from 'zod';

export const paginationQuerySchema = z.strictObject({
  limit: z.coerce
    .number({ error: 'expected an integer 1-100' })
    .int({ error: 'expected an integer 1-100' })
    .min(1, { error: 'expected an integer 1-100' })
    .max(100, { error: 'expected an integer 1-100' })
    .default(20),
  cursor: opaqueId('cursor', 512).optional().describe('nextCursor of the previous page'),
});

const REF_DOC = 'Full hash, unique hash prefix (7+ hex), version number, or alias (e.g. production, latest)';

export const diffQuerySchema = z.strictObject({
  from: opaqueId('version ref', 128).describe(REF_DOC),
  to: opaqueId('version ref', 128).describe(REF_DOC),
});
