/** The only place this service reads process.env: validated at boot, every bad variable listed. */
import { baseServiceConfig, env, type EnvSource, loadConfig } from '@llmops/platform';

const KIB = 1024;
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
     * Key of the tag that marks server-issued feedbackIds (server-feedback-ids.ts). Every replica
     * must have the same value; set a secret one in production, so that clients cannot mint ids that
     * pass as server-issued.
     */
    FEEDBACK_ID_KEY: env.string('llmops-feedback-ids'),
    /** Revision-1 claims of server-issued ids (written after the ack): linger, group size, bound. */
    FEEDBACK_FIRST_CLAIM_LINGER_MS: env.int(50, 0, 10_000),
    FEEDBACK_FIRST_CLAIM_MAX_GROUP: env.int(1_000, 1, 100_000),
    FEEDBACK_FIRST_CLAIM_MAX_PENDING: env.int(200_000, 1, 10_000_000),
    /** How often a feedback revision is re-planned after losing a concurrent compare-and-set. */
    FEEDBACK_REVISION_MAX_ATTEMPTS: env.int(5, 1, 100),
  })
  .refine((c) => c.FEEDBACK_RATING_MIN < c.FEEDBACK_RATING_MAX, {
    path: ['FEEDBACK_RATING_MAX'],
    message: 'expected FEEDBACK_RATING_MAX > FEEDBACK_RATING_MIN',
  });

export type FeedbackConfig = ReturnType<typeof loadFeedbackConfig>;

export function loadFeedbackConfig(env: EnvSource = process.env) {
  return loadConfig(feedbackConfigSchema, env);
}
