import { z } from 'zod';
import { armName, experimentKey } from './text.schema';
import { isoDateTime, positiveInt, promptRef, type SchemaKit, STRICT_KIT, userId } from './common.schema';

export const EXPOSURE = 'io.llmops.exposure.v1';

export const EXPOSURE_REASONS = ['hash', 'forced'] as const;

/**
 * `io.llmops.exposure.v1` on `llmops.exposures.v1` (key: `${experiment}:${userId}`).
 *
 * User `userId` was served arm `arm` of `experiment` during `phase`, either by deterministic hashing
 * (`reason: 'hash'`, with `hashVersion`) or because the experiment forces that user (`'forced'`).
 * The assignment service may emit the same exposure more than once (at-least-once delivery, repeat
 * visits): analytics counts DISTINCT users per (experiment, phase, arm) and dedupes by envelope `id`.
 */
export const buildExposureData = (k: SchemaKit) =>
  k.object({
    experiment: experimentKey(),
    phase: positiveInt('integer phase'),
    arm: armName(),
    userId: userId(),
    prompt: promptRef(k),
    hashVersion: positiveInt('integer hash version'),
    reason: z.enum(EXPOSURE_REASONS, { error: 'expected one of hash, forced' }),
    assignedAt: isoDateTime(),
  });

export const ExposureDataSchema = buildExposureData(STRICT_KIT);
export type ExposureData = z.infer<typeof ExposureDataSchema>;
