/**
 * The exposure record of one assignment. Built with `trustedEvent` instead of `createEvent` because
 * it is on the hot path (no zod parse per request); exposure-event.spec.ts validates the output
 * against the contract, so the two cannot drift apart.
 */
import {
  CLOUDEVENTS_CONTENT_TYPE,
  EVENT_SOURCES,
  EVENT_TYPES,
  exposureKey,
  HEADER_CONTENT_TYPE,
  type CloudEvent,
  trustedEvent,
} from '@llmops/contracts';
import type { OutgoingMessage } from '@llmops/platform';
import { v7 as uuidv7 } from 'uuid';
import type { CompiledArm } from '../experiments/compiled-experiment';

const TYPE = EVENT_TYPES.exposure;

export interface ExposureInput {
  experiment: string;
  phase: number;
  hashVersion: number;
  arm: CompiledArm;
  reason: 'hash' | 'forced';
  userId: string;
}

export function exposureEvent(input: ExposureInput, now: Date = new Date()): CloudEvent<typeof TYPE> {
  const time = now.toISOString();
  const data = {
    experiment: input.experiment,
    phase: input.phase,
    arm: input.arm.name,
    userId: input.userId,
    prompt: { name: input.arm.prompt.name, hash: input.arm.prompt.hash },
    hashVersion: input.hashVersion,
    reason: input.reason,
    assignedAt: time,
  };
  // uuid's v7 draws from a pooled random buffer: ~5x cheaper than one randomBytes() per event.
  return trustedEvent(TYPE, data, {
    source: EVENT_SOURCES.assignment,
    id: uuidv7({ msecs: now.getTime() }),
    time,
  });
}

/** Key `${experiment}:${userId}`: one user's exposures to one experiment share a partition. */
export function exposureMessage(
  input: ExposureInput,
  /** The request's context headers (`contextHeaders(ctx)`). */
  headers: Record<string, string>,
  now?: Date,
): OutgoingMessage {
  return {
    key: exposureKey(input.experiment, input.userId),
    value: JSON.stringify(exposureEvent(input, now)),
    headers: { [HEADER_CONTENT_TYPE]: CLOUDEVENTS_CONTENT_TYPE, ...headers },
  };
}
