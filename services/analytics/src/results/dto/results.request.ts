import { z } from 'zod';

export const WINDOWS = ['1h', '24h', '7d', 'all'] as const;

export const resultsQuerySchema = z
  .strictObject({
    window: z.enum(WINDOWS, { error: 'expected one of 1h, 24h, 7d, all' }).optional(),
    from: z.iso
      .datetime({ offset: true, error: 'expected an RFC 3339 date-time' })
      .optional()
      .describe('RFC 3339 start (instead of window)'),
    to: z.iso
      .datetime({ offset: true, error: 'expected an RFC 3339 date-time' })
      .optional()
      .describe('RFC 3339 end (default now; instead of window)'),
  })
  .refine((q) => !(q.window && (q.from || q.to)), { error: 'use either window or from/to, not both' })
  .refine((q) => !(q.from && q.to) || Date.parse(q.from) < Date.parse(q.to), {
    error: 'expected from < to',
    path: ['to'],
  });

export type ResultsQuery = z.infer<typeof resultsQuerySchema>;
