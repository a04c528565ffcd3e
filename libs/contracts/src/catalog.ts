import type { z } from 'zod';
import { type SchemaKit, STRICT_KIT, TOLERANT_KIT } from './events/common.schema';
import { buildApiKeyUpdatedData } from './events/api-key-updated.event';
import { buildAuditRecordedData } from './events/audit-recorded.event';
import { buildDatasetSnapshotCreatedData } from './events/dataset-snapshot-created.event';
import { buildExperimentCreatedData } from './events/experiment-created.event';
import { buildExperimentDecisionData } from './events/experiment-decision.event';
import { buildExperimentStatusChangedData } from './events/experiment-status-changed.event';
import { buildExperimentUpdatedData } from './events/experiment-updated.event';
import { buildExposureData } from './events/exposure.event';
import { buildFeedbackSubmittedData } from './events/feedback-submitted.event';
import { buildGenerationLoggedData } from './events/generation-logged.event';
import { buildPromptAliasMovedData } from './events/prompt-alias-moved.event';
import { buildPromptVersionRegisteredData } from './events/prompt-version-registered.event';
import { ALL_EVENT_TYPES, EVENT_TYPES, type EventType } from './event-types';
import { DEFAULT_PROJECT } from './project';
import { TOPICS, type TopicBaseName } from './topics';

/**
 * The event catalog: every event type, its data schema, topic, producer and partition key.
 *
 * VERSIONING RULE
 * - The CloudEvents `type` ends with the major version (`io.llmops.feedback.submitted.v1`); topics end
 *   with theirs (`llmops.feedback.v1`). `CONTRACTS_VERSION` is the semver of this catalog.
 * - Within a major version only ADDITIVE, OPTIONAL fields may be added (a minor version of the
 *   contracts). Nothing is removed, renamed, retyped, made required or given a narrower range.
 * - Producers validate strictly (unknown fields are errors, so typos cannot ship). Consumers MUST
 *   ignore fields they do not know: a consumer built against an older minor reads events from a newer
 *   producer with `parseEvent(raw, { tolerateUnknownFields: true })`, which strips unknown fields
 *   (in the envelope and in data) instead of failing.
 * - A breaking change creates a new type (`...v2`) with its own schema; if the key or partitioning
 *   changes it also gets a new topic (`llmops.feedback.v2`). During a migration the producer publishes
 *   v1 and v2 side by side until every consumer has moved, then v1 is retired.
 */
export const CONTRACTS_VERSION = '1.3.0';

export type ServiceName = 'registry' | 'assignment' | 'feedback' | 'analytics' | 'identity' | 'datasets';

/** CloudEvents `source` of each producing service. */
export const EVENT_SOURCES = {
  registry: '/llmops/registry',
  assignment: '/llmops/assignment',
  feedback: '/llmops/feedback',
  analytics: '/llmops/analytics',
  identity: '/llmops/identity',
  datasets: '/llmops/datasets',
} as const satisfies Record<ServiceName, string>;

const builders = {
  [EVENT_TYPES.promptVersionRegistered]: buildPromptVersionRegisteredData,
  [EVENT_TYPES.promptAliasMoved]: buildPromptAliasMovedData,
  [EVENT_TYPES.experimentCreated]: buildExperimentCreatedData,
  [EVENT_TYPES.experimentUpdated]: buildExperimentUpdatedData,
  [EVENT_TYPES.experimentStatusChanged]: buildExperimentStatusChangedData,
  [EVENT_TYPES.exposure]: buildExposureData,
  [EVENT_TYPES.generationLogged]: buildGenerationLoggedData,
  [EVENT_TYPES.feedbackSubmitted]: buildFeedbackSubmittedData,
  [EVENT_TYPES.apiKeyUpdated]: buildApiKeyUpdatedData,
  [EVENT_TYPES.auditRecorded]: buildAuditRecordedData,
  [EVENT_TYPES.datasetSnapshotCreated]: buildDatasetSnapshotCreatedData,
  [EVENT_TYPES.experimentDecision]: buildExperimentDecisionData,
} as const satisfies Record<EventType, (k: SchemaKit) => z.ZodType>;

type DataSchemas = { [T in EventType]: ReturnType<(typeof builders)[T]> };

function buildAll(k: SchemaKit): DataSchemas {
  const out: Partial<Record<EventType, z.ZodType>> = {};
  for (const type of ALL_EVENT_TYPES) out[type] = builders[type](k);
  return out as DataSchemas;
}

/** Strict data schemas (unknown fields fail): what producers validate against. */
export const EVENT_DATA_SCHEMAS: DataSchemas = buildAll(STRICT_KIT);
/** Same schemas, but unknown object fields are stripped (consumers on an older minor). */
export const TOLERANT_EVENT_DATA_SCHEMAS: DataSchemas = buildAll(TOLERANT_KIT);

/** type -> `data` as on the wire / after parsing (defaults applied). */
export type EventDataMap = { [T in EventType]: z.output<DataSchemas[T]> };
/** type -> what a producer passes to `createEvent` (fields with defaults may be omitted). */
export type EventDataInputMap = { [T in EventType]: z.input<DataSchemas[T]> };

export interface EventDefinition<T extends EventType = EventType> {
  type: T;
  topic: TopicBaseName;
  /** The producing service; `'every service'` for events each service publishes about itself. */
  producer: ServiceName | 'every service';
  /** CloudEvents `source` of the producer; for `'every service'` a pattern (`/llmops/<service>`). */
  source: string;
  /** AsyncAPI component message name, e.g. `FeedbackSubmitted`. */
  messageName: string;
  /** AsyncAPI operation id, e.g. `feedback.publishFeedbackSubmitted`. */
  operationId: string;
  summary: string;
  /** Description of the Kafka record key. */
  keyDescription: string;
  /** The Kafka record key of an event with this data in `project` (the envelope's, default `default`). */
  partitionKey: (data: EventDataMap[T], project: string) => string;
}

const experimentKeyDescription =
  '`data.experiment.key` in project default, `<project>/<data.experiment.key>` otherwise (see experimentTopicKey); compaction keeps the newest full snapshot per key.';

export const EVENT_CATALOG: { readonly [T in EventType]: EventDefinition<T> } = {
  [EVENT_TYPES.promptVersionRegistered]: {
    type: EVENT_TYPES.promptVersionRegistered,
    topic: TOPICS.promptVersions,
    producer: 'registry',
    source: EVENT_SOURCES.registry,
    messageName: 'PromptVersionRegistered',
    operationId: 'registry.publishPromptVersionRegistered',
    summary: 'A new immutable prompt version (content-addressed by hash) was registered.',
    keyDescription: 'Prompt name (`data.name`): all versions of a prompt are on one partition, in order.',
    partitionKey: (d) => d.name,
  },
  [EVENT_TYPES.promptAliasMoved]: {
    type: EVENT_TYPES.promptAliasMoved,
    topic: TOPICS.promptAliases,
    producer: 'registry',
    source: EVENT_SOURCES.registry,
    messageName: 'PromptAliasMoved',
    operationId: 'registry.publishPromptAliasMoved',
    summary: 'A prompt alias (e.g. production) now points at another version.',
    keyDescription: 'Prompt name (`data.name`): alias moves of a prompt are ordered.',
    partitionKey: (d) => d.name,
  },
  [EVENT_TYPES.experimentCreated]: {
    type: EVENT_TYPES.experimentCreated,
    topic: TOPICS.experiments,
    producer: 'assignment',
    source: EVENT_SOURCES.assignment,
    messageName: 'ExperimentCreated',
    operationId: 'assignment.publishExperimentCreated',
    summary: 'An experiment was created (full snapshot).',
    keyDescription: experimentKeyDescription,
    partitionKey: (d, project) => experimentTopicKey(d.experiment.key, project),
  },
  [EVENT_TYPES.experimentUpdated]: {
    type: EVENT_TYPES.experimentUpdated,
    topic: TOPICS.experiments,
    producer: 'assignment',
    source: EVENT_SOURCES.assignment,
    messageName: 'ExperimentUpdated',
    operationId: 'assignment.publishExperimentUpdated',
    summary: 'An experiment was changed (full snapshot after the change).',
    keyDescription: experimentKeyDescription,
    partitionKey: (d, project) => experimentTopicKey(d.experiment.key, project),
  },
  [EVENT_TYPES.experimentStatusChanged]: {
    type: EVENT_TYPES.experimentStatusChanged,
    topic: TOPICS.experiments,
    producer: 'assignment',
    source: EVENT_SOURCES.assignment,
    messageName: 'ExperimentStatusChanged',
    operationId: 'assignment.publishExperimentStatusChanged',
    summary: 'An experiment changed status (full snapshot after the change).',
    keyDescription: experimentKeyDescription,
    partitionKey: (d, project) => experimentTopicKey(d.experiment.key, project),
  },
  [EVENT_TYPES.exposure]: {
    type: EVENT_TYPES.exposure,
    topic: TOPICS.exposures,
    producer: 'assignment',
    source: EVENT_SOURCES.assignment,
    messageName: 'Exposure',
    operationId: 'assignment.publishExposure',
    summary: 'A user was served an arm of an experiment.',
    keyDescription:
      "`${data.experiment}:${data.userId}`: one user's exposures to one experiment stay on one partition, so distinct users are counted per partition without double counting.",
    partitionKey: (d) => exposureKey(d.experiment, d.userId),
  },
  [EVENT_TYPES.generationLogged]: {
    type: EVENT_TYPES.generationLogged,
    topic: TOPICS.generations,
    producer: 'feedback',
    source: EVENT_SOURCES.feedback,
    messageName: 'GenerationLogged',
    operationId: 'feedback.publishGenerationLogged',
    summary: 'An LLM generation was logged.',
    keyDescription:
      '`data.requestId`: same key and partition count as llmops.feedback.v1, so a generation and its feedback are co-partitioned.',
    partitionKey: (d) => d.requestId,
  },
  [EVENT_TYPES.feedbackSubmitted]: {
    type: EVENT_TYPES.feedbackSubmitted,
    topic: TOPICS.feedback,
    producer: 'feedback',
    source: EVENT_SOURCES.feedback,
    messageName: 'FeedbackSubmitted',
    operationId: 'feedback.publishFeedbackSubmitted',
    summary:
      'Feedback on a generation was submitted or edited (an edit REPLACES the earlier revision of the same feedbackId; duplicates are ignored).',
    keyDescription:
      '`data.requestId`: same key and partition count as llmops.generations.v1 (co-partitioned join); all revisions of a feedbackId are ordered.',
    partitionKey: (d) => d.requestId,
  },
  [EVENT_TYPES.apiKeyUpdated]: {
    type: EVENT_TYPES.apiKeyUpdated,
    topic: TOPICS.apiKeys,
    producer: 'identity',
    source: EVENT_SOURCES.identity,
    messageName: 'ApiKeyUpdated',
    operationId: 'identity.publishApiKeyUpdated',
    summary:
      'An API key was created or changed (revoked, its project deleted): the full state of the key, the newest per keyId wins.',
    keyDescription: '`data.keyId`: compaction keeps the newest full state of each key.',
    partitionKey: (d) => d.keyId,
  },
  [EVENT_TYPES.auditRecorded]: {
    type: EVENT_TYPES.auditRecorded,
    topic: TOPICS.audit,
    producer: 'every service',
    source: '/llmops/<service>',
    messageName: 'AuditRecorded',
    operationId: 'anyService.publishAuditRecorded',
    summary: 'A change made through an API (who did what to which resource), recorded after it succeeded.',
    keyDescription: "`data.project`: one project's audit trail is on one partition, in order.",
    partitionKey: (d) => d.project,
  },
  [EVENT_TYPES.datasetSnapshotCreated]: {
    type: EVENT_TYPES.datasetSnapshotCreated,
    topic: TOPICS.datasetSnapshots,
    producer: 'datasets',
    source: EVENT_SOURCES.datasets,
    messageName: 'DatasetSnapshotCreated',
    operationId: 'datasets.publishDatasetSnapshotCreated',
    summary:
      'A new immutable snapshot of a dataset was built (content-addressed by snapshotId; its records are downloaded over HTTP).',
    keyDescription:
      "`data.dataset` in project default, `<project>/<data.dataset>` otherwise (see datasetTopicKey): one dataset's snapshots are ordered.",
    partitionKey: (d, project) => datasetTopicKey(project, d.dataset),
  },
  [EVENT_TYPES.experimentDecision]: {
    type: EVENT_TYPES.experimentDecision,
    topic: TOPICS.experimentDecisions,
    producer: 'analytics',
    source: EVENT_SOURCES.analytics,
    messageName: 'ExperimentDecision',
    operationId: 'analytics.publishExperimentDecision',
    summary:
      "The verdict of an experiment's decision policy changed (winner, guardrail breach, no difference), with the statistics behind it; the id is deterministic per verdict change.",
    keyDescription:
      "`data.experimentKey` in project default, `<project>/<data.experimentKey>` otherwise (see experimentTopicKey): one experiment's verdicts are ordered.",
    partitionKey: (d, project) => experimentTopicKey(d.experimentKey, project),
  },
};

/** Partition key of `llmops.exposures.v1`. */
export function exposureKey(experiment: string, userId: string): string {
  return `${experiment}:${userId}`;
}

/**
 * Key of an experiment on the compacted `llmops.experiments.v1`: the experiment key in project
 * `default` (unchanged from before projects existed), `<project>/<experiment key>` in any other.
 * Experiment keys cannot contain `/`, so two projects' experiments never share a key (and never
 * compact together).
 */
export function experimentTopicKey(experimentKey: string, project: string = DEFAULT_PROJECT): string {
  return project === DEFAULT_PROJECT ? experimentKey : `${project}/${experimentKey}`;
}

/**
 * Key of a dataset's events on `llmops.dataset-snapshots.v1`: the dataset name in project `default`,
 * `<project>/<dataset name>` in any other (like {@link experimentTopicKey}; dataset names cannot
 * contain `/`, so two projects' datasets never share a key).
 */
export function datasetTopicKey(project: string, name: string): string {
  return project === DEFAULT_PROJECT ? name : `${project}/${name}`;
}

/**
 * The Kafka record key for a (validated) event's data; `project` is the event's project (the
 * envelope's `project`, `default` when absent).
 */
export function partitionKeyFor<T extends EventType>(
  type: T,
  data: EventDataMap[T],
  project: string = DEFAULT_PROJECT,
): string {
  const def: EventDefinition<T> = EVENT_CATALOG[type];
  return def.partitionKey(data, project);
}
