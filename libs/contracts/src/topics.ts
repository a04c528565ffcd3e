import { EVENT_TYPES, type EventType } from './event-types';

/** Partition count of every topic. Generations and feedback MUST keep equal counts (co-partitioning). */
export const DEFAULT_PARTITIONS = 6;

/**
 * Partition count of the API keys topic: one, so every key change is in one total order. Small
 * reference data that every service reads whole; nothing to spread.
 */
export const API_KEYS_PARTITIONS = 1;

/**
 * Kafka topic base names. The `.v1` suffix is the topic's major version: it only changes when the key
 * or partitioning changes (see the versioning rule in `catalog.ts`). Use {@link topicName} to apply a
 * deployment prefix.
 */
export const TOPICS = {
  /**
   * Immutable prompt versions. Producer: registry. Consumers: assignment (resolves arm prompt refs),
   * analytics (each version's model and sampling params, for the MLflow export).
   * Key: prompt name, so every version of one prompt is on one partition, in registration order
   * (version numbers are per name). Retention: delete, kept long (reference data; the registry's
   * database is the source of truth and can re-publish).
   * Events: `io.llmops.prompt.version.registered.v1`.
   */
  promptVersions: 'llmops.prompt-versions.v1',
  /**
   * Alias moves (e.g. `production` -> version 7). Producer: registry. Consumers: assignment
   * (re-resolves arms that reference an alias), analytics.
   * Key: prompt name, the same as prompt-versions, so all alias moves of a prompt are ordered and the
   * last one per (name, alias) wins. Retention: delete.
   * Events: `io.llmops.prompt.alias.moved.v1`.
   */
  promptAliases: 'llmops.prompt-aliases.v1',
  /**
   * Experiment snapshots. Producer: assignment. Consumers: analytics (arms, control, phase, decision
   * policy), feedback, registry (decision policies with autoPromote).
   * Key: the experiment key in project `default`, `<project>/<experiment key>` in any other project
   * (see `experimentTopicKey`; experiment keys cannot contain `/`), so experiments of two projects
   * never compact together. COMPACTED (`cleanup.policy=compact`): every event carries the full snapshot,
   * so the newest record per key is enough to rebuild state; the key keeps an experiment's changes in
   * order and is what compaction deduplicates on.
   * Events: experiment created / updated / status-changed `.v1`.
   */
  experiments: 'llmops.experiments.v1',
  /**
   * Exposures (a user was served an arm). Producer: assignment. Consumers: analytics.
   * Key: `${experiment}:${userId}`. Analytics counts DISTINCT users per experiment and arm; with this
   * key all exposures of one user in one experiment are on one partition, so each partition can
   * dedupe users locally and per-partition distinct counts add up without double counting. Keying by
   * experiment alone would put a whole (hot) experiment on one partition; by user alone would still
   * dedupe but couples unrelated experiments' load. Retention: delete.
   * Events: `io.llmops.exposure.v1`.
   */
  exposures: 'llmops.exposures.v1',
  /**
   * Logged LLM generations. Producer: feedback service (ingestion API). Consumers: analytics,
   * datasets (the examples that dataset snapshots are built from).
   * Key: `requestId`. Same key and same partition count as `llmops.feedback.v1`, so a generation and
   * its feedback are co-partitioned: a downstream join reads both from the same partition number
   * and sees each in order. Retention: delete.
   * Events: `io.llmops.generation.logged.v1`.
   */
  generations: 'llmops.generations.v1',
  /**
   * Feedback (ratings, thumbs, comments, corrections, scores) and its edits. Producer: feedback
   * service. Consumers: analytics, datasets.
   * Key: `requestId` (NOT feedbackId): the SAME key as generations and the same partition count, so
   * feedback is co-partitioned with the generation it rates, and all revisions of one feedbackId
   * (same requestId) are ordered. Retention: delete.
   * Events: `io.llmops.feedback.submitted.v1`.
   */
  feedback: 'llmops.feedback.v1',
  /**
   * Records a consumer could not process after its retries. Producer: any consumer. Consumers:
   * operators and replay tooling.
   * Key: the original record's key (unchanged, so a replay lands on the same partition as before).
   * Value and headers: the original ones, plus the `x-dlq-*` headers (see `DLQ_HEADERS`).
   * Retention: delete, long (until triaged).
   */
  deadLetter: 'llmops.dead-letter.v1',
  /**
   * API keys. Producer: identity service (after every change of a key). Consumers: every service
   * (each one's key directory reads the whole topic at boot and follows it; authentication never
   * makes a network call).
   * Key: keyId. COMPACTED: every event is the full state of the key, so the newest record per keyId is
   * the key; a revoked key stays on the topic (with `revokedAt`) so no service can resurrect it.
   * Partitions: `API_KEYS_PARTITIONS` (1).
   * Events: `io.llmops.identity.api-key.updated.v1`.
   */
  apiKeys: 'llmops.identity.api-keys.v1',
  /**
   * Audit trail: one event per change made through an API. Producers: every service (the one that
   * made the change, after it succeeded). Consumers: identity service (stores the trail and serves
   * `GET /v1/audit`).
   * Key: project, so one project's trail is on one partition, in order. Retention: delete, long.
   * Events: `io.llmops.audit.recorded.v1`.
   */
  audit: 'llmops.audit.v1',
  /**
   * Dataset snapshots (a new immutable, versioned training or eval set was frozen). Producer: datasets
   * service. Consumers: training and evaluation pipelines outside the platform (they download the
   * snapshot's records over HTTP).
   * Key: the dataset name in project `default`, `<project>/<dataset name>` in any other project (see
   * `datasetTopicKey`; dataset names cannot contain `/`), so one dataset's snapshots are on one
   * partition, in sequence order. Retention: delete (the datasets service's database is the source
   * of truth and re-publishes snapshots it could not announce).
   * Events: `io.llmops.dataset.snapshot.created.v1`.
   */
  datasetSnapshots: 'llmops.dataset-snapshots.v1',
  /**
   * Verdicts of experiments' decision policies (a winner, a guardrail breach, no difference).
   * Producer: analytics (when a verdict changes). Consumers: assignment (stops the experiment),
   * registry (promotes the winning prompt version).
   * Key: the experiment key in project `default`, `<project>/<experiment key>` in any other (see
   * `experimentTopicKey`), the same as the experiments topic, so one experiment's verdicts are on one
   * partition, in order. Retention: delete (analytics keeps the last verdict per phase and the
   * event id is deterministic, so a replay republishes the same events).
   * Events: `io.llmops.experiment.decision.v1`.
   */
  experimentDecisions: 'llmops.experiment-decisions.v1',
} as const;

export type TopicKey = keyof typeof TOPICS;
export type TopicBaseName = (typeof TOPICS)[TopicKey];

/**
 * Full topic name for a deployment: `topicName(TOPICS.feedback, 't123.')` -> `t123.llmops.feedback.v1`.
 * Tests and multi-tenant setups use a prefix; production uses none.
 */
export function topicName(base: TopicBaseName | string, prefix = ''): string {
  return `${prefix}${base}`;
}

export interface TopicSpec {
  name: TopicBaseName;
  partitions: number;
  compacted: boolean;
  /** What the record key is and why. */
  key: string;
  producer: string;
  consumers: string[];
  events: EventType[];
}

/** What an admin needs to create the topics (names are base names: apply `topicName` for a prefix). */
export const TOPIC_SPECS: readonly TopicSpec[] = [
  {
    name: TOPICS.promptVersions,
    partitions: DEFAULT_PARTITIONS,
    compacted: false,
    key: 'Prompt name: all versions of a prompt on one partition, in registration order.',
    producer: 'registry',
    consumers: ['registry', 'analytics'],
    events: [EVENT_TYPES.promptVersionRegistered],
  },
  {
    name: TOPICS.promptAliases,
    partitions: DEFAULT_PARTITIONS,
    compacted: false,
    key: 'Prompt name: all alias moves of a prompt are ordered; the last per (name, alias) wins.',
    producer: 'registry',
    consumers: ['registry'],
    events: [EVENT_TYPES.promptAliasMoved],
  },
  {
    name: TOPICS.experiments,
    partitions: DEFAULT_PARTITIONS,
    compacted: true,
    key: 'Experiment key (`<project>/<experiment key>` outside project default): changes of an experiment are ordered; compaction keeps the newest full snapshot per key.',
    producer: 'assignment',
    consumers: ['assignment', 'analytics', 'registry'],
    events: [
      EVENT_TYPES.experimentCreated,
      EVENT_TYPES.experimentUpdated,
      EVENT_TYPES.experimentStatusChanged,
    ],
  },
  {
    name: TOPICS.exposures,
    partitions: DEFAULT_PARTITIONS,
    compacted: false,
    key: "`${experiment}:${userId}`: one user's exposures to one experiment stay on one partition, so distinct users per experiment/arm are counted per partition without double counting.",
    producer: 'assignment',
    consumers: ['analytics'],
    events: [EVENT_TYPES.exposure],
  },
  {
    name: TOPICS.generations,
    partitions: DEFAULT_PARTITIONS,
    compacted: false,
    key: 'requestId: same key and partition count as llmops.feedback.v1, so generations and their feedback are co-partitioned.',
    producer: 'feedback',
    consumers: ['analytics', 'datasets'],
    events: [EVENT_TYPES.generationLogged],
  },
  {
    name: TOPICS.feedback,
    partitions: DEFAULT_PARTITIONS,
    compacted: false,
    key: 'requestId: same key and partition count as llmops.generations.v1 (co-partitioned join); all revisions of a feedbackId are ordered.',
    producer: 'feedback',
    consumers: ['analytics', 'datasets'],
    events: [EVENT_TYPES.feedbackSubmitted],
  },
  {
    name: TOPICS.deadLetter,
    partitions: DEFAULT_PARTITIONS,
    compacted: false,
    key: 'The original record key, unchanged (a replay lands where the original did).',
    producer: 'any consumer',
    consumers: ['operators', 'replay tooling'],
    events: [],
  },
  {
    name: TOPICS.apiKeys,
    partitions: API_KEYS_PARTITIONS,
    compacted: true,
    key: 'keyId: compaction keeps the newest full state of each key.',
    producer: 'identity',
    consumers: ['registry', 'assignment', 'feedback', 'analytics', 'identity', 'datasets'],
    events: [EVENT_TYPES.apiKeyUpdated],
  },
  {
    name: TOPICS.audit,
    partitions: DEFAULT_PARTITIONS,
    compacted: false,
    key: "Project: one project's audit trail is on one partition, in order.",
    producer: 'every service',
    consumers: ['identity'],
    events: [EVENT_TYPES.auditRecorded],
  },
  {
    name: TOPICS.datasetSnapshots,
    partitions: DEFAULT_PARTITIONS,
    compacted: false,
    key: "Dataset name (`<project>/<dataset name>` outside project default): one dataset's snapshots are on one partition, in sequence order.",
    producer: 'datasets',
    consumers: ['training and evaluation pipelines'],
    events: [EVENT_TYPES.datasetSnapshotCreated],
  },
  {
    name: TOPICS.experimentDecisions,
    partitions: DEFAULT_PARTITIONS,
    compacted: false,
    key: "Experiment key (`<project>/<experiment key>` outside project default): one experiment's verdicts are on one partition, in order.",
    producer: 'analytics',
    consumers: ['assignment', 'registry'],
    events: [EVENT_TYPES.experimentDecision],
  },
];

/** The topic an event type is published on. */
export function topicForEventType(type: EventType): TopicBaseName {
  const spec = TOPIC_SPECS.find((t) => t.events.includes(type));
  if (!spec) throw new Error(`no topic carries ${type}`);
  return spec.name;
}
