/**
 * The analytics service for integration tests, as a child process (`node -r @swc-node/register
 * services/analytics/src/main.ts`), so crash tests can SIGKILL it exactly as an orchestrator would.
 */
import type { TestInfra } from '@llmops/testing';
import { killHard, type ServiceProcess, startService } from './service-process';

export interface TestApp {
  process: ServiceProcess;
  close(): Promise<void>;
}

export function serviceEnv(
  infra: TestInfra,
  groupId: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    KAFKA_BROKERS: infra.kafkaBrokers,
    MONGODB_URI: infra.mongoBaseUri,
    MONGODB_DB: infra.dbName,
    KAFKA_TOPIC_PREFIX: infra.topicPrefix,
    ANALYTICS_CONSUMER_GROUP: groupId,
    ANALYTICS_METRICS_REFRESH_MS: '500',
    ...extra,
  };
}

export async function startApp(
  infra: TestInfra,
  groupId: string,
  extra: Record<string, string> = {},
): Promise<TestApp> {
  const p = await startService(serviceEnv(infra, groupId, extra));
  const app: TestApp = { process: p, close: () => killGracefully(p) };
  // Ready when /health/ready answers 200.
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${p.port}/health/ready`);
      if (res.status === 200) return app;
    } catch {
      // not listening yet
    }
    if (p.child.exitCode !== null) throw new Error(`service exited: ${p.output()}`);
    if (Date.now() > deadline) throw new Error(`service not ready: ${p.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function killGracefully(p: ServiceProcess): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => void killHard(p), 20_000);
  await p.exited;
  clearTimeout(timer);
}

/** GET `url` with the default key (or with `headers` instead: `{}` sends no key). */
export async function inject(
  app: TestApp,
  url: string,
  headers: Record<string, string> = app.process.headers,
): Promise<{ status: number; body: unknown; text: string; headers: Headers }> {
  const res = await fetch(`http://127.0.0.1:${app.process.port}${url}`, { headers });
  const text = await res.text();
  const json = res.headers.get('content-type')?.includes('json') ?? false;
  return {
    status: res.status,
    body: json && text ? (JSON.parse(text) as unknown) : null,
    text,
    headers: res.headers,
  };
}
