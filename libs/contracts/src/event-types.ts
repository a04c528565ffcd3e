import { API_KEY_UPDATED } from './events/api-key-updated.event';
import { AUDIT_RECORDED } from './events/audit-recorded.event';
import { DATASET_SNAPSHOT_CREATED } from './events/dataset-snapshot-created.event';
import { EXPERIMENT_CREATED } from './events/experiment-created.event';
import { EXPERIMENT_DECISION } from './events/experiment-decision.event';
import { EXPERIMENT_STATUS_CHANGED } from './events/experiment-status-changed.event';
import { EXPERIMENT_UPDATED } from './events/experiment-updated.event';
import { EXPOSURE } from './events/exposure.event';
import { FEEDBACK_SUBMITTED } from './events/feedback-submitted.event';
import { GENERATION_LOGGED } from './events/generation-logged.event';
import { PROMPT_ALIAS_MOVED } from './events/prompt-alias-moved.event';
import { PROMPT_VERSION_REGISTERED } from './events/prompt-version-registered.event';

/** Every CloudEvents `type` in the catalog. The suffix (`.v1`) is the major version. */
export const EVENT_TYPES = {
  promptVersionRegistered: PROMPT_VERSION_REGISTERED,
  promptAliasMoved: PROMPT_ALIAS_MOVED,
  experimentCreated: EXPERIMENT_CREATED,
  experimentUpdated: EXPERIMENT_UPDATED,
  experimentStatusChanged: EXPERIMENT_STATUS_CHANGED,
  exposure: EXPOSURE,
  generationLogged: GENERATION_LOGGED,
  feedbackSubmitted: FEEDBACK_SUBMITTED,
  apiKeyUpdated: API_KEY_UPDATED,
  auditRecorded: AUDIT_RECORDED,
  datasetSnapshotCreated: DATASET_SNAPSHOT_CREATED,
  experimentDecision: EXPERIMENT_DECISION,
} as const;

export type EventType = (typeof EVENT_TYPES)[keyof typeof EVENT_TYPES];

export const ALL_EVENT_TYPES: readonly EventType[] = Object.values(EVENT_TYPES);

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && (ALL_EVENT_TYPES as readonly string[]).includes(value);
}
