/** The only place this service reads process.env: validated at boot, every bad variable listed. */
import { baseServiceConfig, env, type EnvSource, loadConfig } from '@llmops/platform';
import { z } from 'zod';

const KIB = 1024;
/** Public (it is in the source): fine for development, never for production. */
export const DEFAULT_FEEDBACK_ID_KEY = 'llmops-feedback-ids';
const MIB = 1024 * KIB;

export const feedbackConfigSchema = baseServiceConfig(3003, 'feedback')
  .extend({
    /** Integer rating scale (inclusive). Written into every feedback event as `ratingScale`. */
    FEEDBACK_RATING_MIN: env.int(1, -1_000_000, 1_000_000),
    FEEDBACK_RATING_MAX: env.int(5, -1_000_000, 1_000_000),
    /** Request body limits (bytes) of the single-item and the batch endpoints: over them -> 413. */
    FEEDBACK_MAX_BODY_BYTES: env.int(1 * MIB, 1 * KIB, 100 * MIB),
    FEEDBACK_MAX_BATCH_BODY_BYTES: env.int(10 * MIB, 1 * KIB, 1024 * MIB),
    FEEDBACK_MAX_BATCH_ITEMS: env.int(1_000, 1, 100_000),
    /** Per-field limits (UTF-8 bytes): over them -> 413 field_too_large. */
    FEEDBACK_MAX_COMMENT_BYTES: env.int(32 * KIB, 1, 100 * MIB),
    FEEDBACK_MAX_CORRECTION_BYTES: env.int(32 * KIB, 1, 100 * MIB),
    FEEDBACK_MAX_OUTPUT_BYTES: env.int(256 * KIB, 1, 100 * MIB),
    /**
     * Largest serialized event (bytes). Kafka refuses record batches over the broker's
     * message.max.bytes (1 MiB by default), and a refused batch fails every request sharing the
     * micro-batch, so an event that cannot fit is refused up front (413 event_too_large).
     */
    FEEDBACK_MAX_EVENT_BYTES: env.int(900 * KIB, 1 * KIB, 100 * MIB),
    /** Mask e-mail addresses and phone numbers in free-text fields before events leave the service. */
    FEEDBACK_REDACT_PII: env.bool(false),
    /**
     * Keys of the tag that marks server-issued feedbackIds (server-feedback-ids.ts), comma-separated.
     * The first tags new ids; all are accepted (rotation, see the README). The default is public:
     * with NODE_ENV=production the service refuses to start with it.
     */
    FEEDBACK_ID_KEYS: z
      .string()
      .default(DEFAULT_FEEDBACK_ID_KEY)
      .transform((v) => v.split(',').map((k) => k.trim()))
      .refine((keys) => keys.every((k) => k.length >= 8), {
        message: 'expected comma-separated keys of at least 8 characters each',
      }),
    /**
     * Whether revision 1 of a server-issued id is claimed after the ack (true) or before publishing
     * like every other revision (false). Upgrading from a version without it: deploy with false
     * first, and set true once every replica recognises server-issued ids.
     */
    FEEDBACK_FIRST_CLAIM_AFTER_ACK: env.bool(true),
    /**
     * Whether revision claims are written packed (`_id` and one string, see
     * feedback-revision.schema.ts) rather than field by field. Both are always read. Upgrading from
     * a version that does not read packed claims: deploy with false first, and set true once no
     * replica of that version runs.
     */
    FEEDBACK_PACKED_CLAIMS: env.bool(true),
    /**
     * A client-supplied id that is recognised as server-issued but carries a time later than now
     * plus this skew cannot have been issued yet: 400 (nobody can claim ids ahead of the service).
     */
    FEEDBACK_ID_MAX_CLOCK_SKEW_MS: env.int(5_000, 0, 600_000),
    /** Revision-1 claims of server-issued ids (written after the ack): linger, group size, bound. */
    FEEDBACK_FIRST_CLAIM_LINGER_MS: env.int(50, 0, 10_000),
    FEEDBACK_FIRST_CLAIM_MAX_GROUP: env.int(1_000, 1, 100_000),
    FEEDBACK_FIRST_CLAIM_MAX_PENDING: env.int(200_000, 1, 10_000_000),
    /**
     * How revisions are claimed (see FeedbackRevisions): `plain` claims every revision before
     * publishing; `paged` claims revision 1 of server-issued ids after the ack, in pages. `auto`:
     * see revisionStoreDesign.
     */
    FEEDBACK_REVISION_STORE: z.enum(['auto', 'plain', 'paged']).default('auto'),
    /** How often a feedback revision is re-planned after losing a concurrent compare-and-set. */
    FEEDBACK_REVISION_MAX_ATTEMPTS: env.int(5, 1, 100),
    /** Only `production` matters here (the Dockerfile sets it): see FEEDBACK_ID_KEYS. */
    NODE_ENV: z.string().optional(),
  })
  .refine((c) => c.FEEDBACK_RATING_MIN < c.FEEDBACK_RATING_MAX, {
    path: ['FEEDBACK_RATING_MAX'],
    message: 'expected FEEDBACK_RATING_MAX > FEEDBACK_RATING_MIN',
  })
  .refine((c) => c.NODE_ENV !== 'production' || !c.FEEDBACK_ID_KEYS.includes(DEFAULT_FEEDBACK_ID_KEY), {
    path: ['FEEDBACK_ID_KEYS'],
    message:
      'the public default key is not allowed with NODE_ENV=production: set secret keys (anyone with the key can make ids that pass as server-issued)',
  });

export type FeedbackConfig = ReturnType<typeof loadFeedbackConfig>;

export function loadFeedbackConfig(env: EnvSource = process.env) {
  return loadConfig(feedbackConfigSchema, env);
}
