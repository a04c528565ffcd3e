/** The only place this service reads process.env: validated at boot, every bad variable listed. */
import { baseServiceConfig, env, type EnvSource, loadConfig } from '@llmops/platform';
import { z } from 'zod';

export const assignmentConfigSchema = baseServiceConfig(3002, 'assignment').extend({
  /** Base URL of the prompt registry; arm prompt refs are resolved there when experiments change. */
  REGISTRY_URL: z
    .string()
    .default('http://127.0.0.1:3001')
    .refine((v) => /^https?:\/\/[^\s/]+(\/.*)?$/.test(v), { message: 'expected an http(s):// URL' })
    .transform((v) => v.replace(/\/+$/, '')),
  /** Per-request timeout of registry calls; on timeout the write fails with 503 registry_unavailable. */
  REGISTRY_TIMEOUT_MS: env.int(2_000, 50, 60_000),
  /** How often the outbox publisher looks for experiment changes not yet on the topic. */
  EXPERIMENTS_OUTBOX_INTERVAL_MS: env.int(1_000, 50, 600_000),
  /**
   * How long a write waits for its experiment event to be acknowledged before answering anyway
   * (the change is already durable in MongoDB; the outbox publishes it later).
   */
  EXPERIMENTS_PUBLISH_WAIT_MS: env.int(3_000, 0, 60_000),
  /**
   * Most `GET /v1/experiments/snapshots?wait=` requests this replica holds at once; past it a long
   * poll answers 503 with Retry-After (plain reads are not limited).
   */
  SNAPSHOTS_MAX_WAITERS: env.int(1_000, 1, 100_000),
  /**
   * The consumer group of the experiment decisions topic, shared by every replica (each decision
   * is acted on by one of them). Empty = `<KAFKA_TOPIC_PREFIX>llmops-assignment-decisions`, so
   * deployments (and tests) that share a cluster under different topic prefixes never share it.
   */
  ASSIGNMENT_DECISIONS_CONSUMER_GROUP: z
    .string()
    .regex(/^[a-zA-Z0-9._-]*$/, 'expected letters, digits, ".", "_" or "-"')
    .max(200, 'expected at most 200 characters')
    .default(''),
  /**
   * Whether this replica consumes decisions. False: no experiment is stopped automatically, and
   * decisions wait in the topic, unread by the group, until a replica consumes them again.
   */
  ASSIGNMENT_DECISIONS_CONSUMER_ENABLED: env.bool(true),
  /**
   * Names this replica's consumer group for the experiments topic (each replica reads the whole
   * topic, so every replica needs its own group). Empty = a random id per process start.
   */
  INSTANCE_ID: z
    .string()
    .regex(/^[a-zA-Z0-9._-]*$/, 'expected letters, digits, ".", "_" or "-"')
    .max(64, 'expected at most 64 characters')
    .default(''),
});

export type AssignmentConfig = ReturnType<typeof loadAssignmentConfig>;

export function loadAssignmentConfig(env: EnvSource = process.env) {
  return loadConfig(assignmentConfigSchema, env);
}
