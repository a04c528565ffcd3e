/**
 * Runs the analytics service as a real child process (so it can be SIGKILLed), with the test pepper
 * and a key of project `default` holding every scope, issued before the service starts (so it is
 * known once the service is ready) and sent by default.
 */
import {
  type IssuedTestKey,
  issueTestKey,
  type ServiceProcess as Spawned,
  spawnService,
} from '@llmops/testing';

export interface ServiceProcess extends Spawned {
  /** The default key's `authorization` header. */
  headers: Record<string, string>;
}

/** One default key per Kafka namespace (the services of a test file share it). */
const defaultKeys = new Map<string, Promise<IssuedTestKey>>();

export function defaultKey(env: Record<string, string>): Promise<IssuedTestKey> {
  const infra = { kafkaBrokers: env.KAFKA_BROKERS, topicPrefix: env.KAFKA_TOPIC_PREFIX };
  const id = `${infra.kafkaBrokers}|${infra.topicPrefix}`;
  let key = defaultKeys.get(id);
  if (!key) defaultKeys.set(id, (key = issueTestKey(infra, { name: 'analytics tests' })));
  return key;
}

export async function startService(env: Record<string, string>): Promise<ServiceProcess> {
  const { header } = await defaultKey(env);
  return { ...(await spawnService('analytics', env)), headers: header };
}

export async function killHard(p: ServiceProcess): Promise<void> {
  await p.stop('SIGKILL');
}

export async function getJson(
  port: number,
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`http://127.0.0.1:${port}${url}`, { headers });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null };
}
