import { z } from 'zod';

/** Longest long poll, in seconds. */
export const MAX_WAIT_SECONDS = 30;

/** `GET /v1/experiments/snapshots`: `wait` (1-30 s) holds the request until something changes. */
export const snapshotsQuerySchema = z.strictObject({
  wait: z.coerce
    .number({ error: `expected wait as whole seconds, 1 to ${MAX_WAIT_SECONDS}` })
    .int({ error: `expected wait as whole seconds, 1 to ${MAX_WAIT_SECONDS}` })
    .min(1, { error: `expected wait as whole seconds, 1 to ${MAX_WAIT_SECONDS}` })
    .max(MAX_WAIT_SECONDS, { error: `expected wait as whole seconds, 1 to ${MAX_WAIT_SECONDS}` })
    .optional()
    .describe(
      'Long poll: when If-None-Match equals the current version, answer only when it changes (200) ' +
        'or after this many seconds (304).',
    ),
});
