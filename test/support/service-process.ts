/**
 * Runs a service as a real process without importing its code: from its TypeScript sources
 * (`node -r @swc-node/register services/<name>/src/main.ts`, as `npm start` does) or from the
 * built JavaScript (`node --enable-source-maps dist/services/<name>/src/main.js`, as the Docker
 * image and the Kubernetes manifests do; `npm run build` writes it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { expectEventually, freePort, type TestInfra } from '@llmops/testing';

const root = join(__dirname, '..', '..');

export interface ServiceProcess {
  name: string;
  url: string;
  port: number;
  child: ChildProcess;
  /** Everything the process printed, for assertions and failure messages. */
  output(): string;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** `source`: the TypeScript through @swc-node/register; `built`: the compiled JavaScript in dist/. */
export type ServiceCode = 'source' | 'built';

/** The node arguments that run a service's code. */
export function serviceArgs(name: string, code: ServiceCode): string[] {
  return code === 'built'
    ? ['--enable-source-maps', join('dist', 'services', name, 'src', 'main.js')]
    : ['-r', '@swc-node/register', join('services', name, 'src', 'main.ts')];
}

export async function startServiceProcess(
  name: 'registry' | 'assignment' | 'feedback' | 'analytics',
  env: Record<string, string>,
  code: ServiceCode = 'source',
): Promise<ServiceProcess> {
  const port = await freePort();
  let out = '';
  const child = spawn(process.execPath, serviceArgs(name, code), {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    child,
    output: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export async function httpJson(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body, headers: res.headers };
}

export const SERVICE_NAMES = ['registry', 'assignment', 'feedback', 'analytics'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/**
 * Starts the four services against the test's own databases and topic prefix (assignment pointed at
 * the registry), and waits until each one's /health/ready answers 200. `extra` adds environment
 * variables per service; `code` chooses sources or built output.
 */
export async function startAllServices(
  infra: TestInfra,
  extra: Partial<Record<ServiceName, Record<string, string>>> = {},
  code: ServiceCode = 'source',
): Promise<Map<ServiceName, ServiceProcess>> {
  const common = {
    KAFKA_BROKERS: infra.kafkaBrokers,
    KAFKA_TOPIC_PREFIX: infra.topicPrefix,
    MONGODB_URI: infra.mongoBaseUri,
  };
  const envOf = (name: ServiceName, own: Record<string, string> = {}) => ({
    ...common,
    MONGODB_DB: `${infra.dbName}_${name}`,
    ...own,
    ...extra[name],
  });
  const services = new Map<ServiceName, ServiceProcess>();
  const registry = await startServiceProcess('registry', envOf('registry'), code);
  services.set('registry', registry);
  const rest = await Promise.all([
    startServiceProcess('assignment', envOf('assignment', { REGISTRY_URL: registry.url }), code),
    startServiceProcess('feedback', envOf('feedback'), code),
    startServiceProcess(
      'analytics',
      envOf('analytics', { ANALYTICS_CONSUMER_GROUP: `${infra.id}-analytics` }),
      code,
    ),
  ]);
  for (const s of rest) services.set(s.name as ServiceName, s);
  for (const s of services.values()) {
    await expectEventually(async () => expect((await httpJson(`${s.url}/health/ready`)).status).toBe(200), {
      timeoutMs: 90_000,
      intervalMs: 500,
    }).catch(async (err: Error) => {
      err.message += `\n--- ${s.name} output ---\n${s.output().slice(-4000)}`;
      // The caller never gets the map, so nothing else would stop the ones that did start.
      await Promise.all([...services.values()].map((p) => p.stop('SIGKILL')));
      throw err;
    });
  }
  return services;
}
