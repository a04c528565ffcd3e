/**
 * The services an SDK test talks to, as real processes from their TypeScript sources (as
 * `npm start` runs them) on the test's own databases and topic prefix, with a test key every one
 * of them accepts. A service can be stopped and started again on the same port (outage tests).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import {
  expectEventually,
  freePort,
  issueTestKey,
  type IssuedTestKey,
  TEST_KEY_PEPPER,
  type TestInfra,
  testInfra,
} from '@llmops/testing';

const ROOT = join(__dirname, '..', '..', '..', '..');

export type StackService = 'registry' | 'assignment' | 'feedback' | 'analytics' | 'datasets';

/** A request each service authenticates before anything else: any answer but 401 means it knows the key. */
const KEY_PROBES: Record<StackService, { method: string; path: string }> = {
  registry: { method: 'GET', path: '/v1/prompts?limit=1' },
  assignment: { method: 'GET', path: '/v1/experiments?limit=1' },
  feedback: { method: 'POST', path: '/v1/feedback' },
  analytics: { method: 'GET', path: '/v1/experiments/probe/results' },
  datasets: { method: 'GET', path: '/v1/datasets?limit=1' },
};

export interface Stack {
  infra: TestInfra;
  key: IssuedTestKey;
  urls: Record<StackService, string>;
  /** SIGTERM (graceful) and wait for the exit. */
  stop(name: StackService): Promise<void>;
  /** Starts a stopped service again on its port and waits until it is ready and knows the key. */
  start(name: StackService): Promise<void>;
  /** Everything a service printed. */
  output(name: StackService): string;
  close(): Promise<void>;
}

export async function startStack(names: readonly StackService[]): Promise<Stack> {
  const infra = testInfra();
  const key = await issueTestKey(infra);
  const ports = Object.fromEntries(
    await Promise.all(names.map(async (n) => [n, await freePort()])),
  ) as Record<StackService, number>;
  const urls = Object.fromEntries(names.map((n) => [n, `http://127.0.0.1:${ports[n]}`])) as Record<
    StackService,
    string
  >;
  const children = new Map<StackService, ChildProcess>();
  const outputs = new Map<StackService, string>();

  const start = async (name: StackService) => {
    const child = spawn(
      process.execPath,
      ['-r', '@swc-node/register', join('services', name, 'src', 'main.ts')],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          LOG_LEVEL: 'warn',
          LLMOPS_KEY_PEPPER: TEST_KEY_PEPPER,
          KAFKA_BROKERS: infra.kafkaBrokers,
          KAFKA_TOPIC_PREFIX: infra.topicPrefix,
          MONGODB_URI: infra.mongoBaseUri,
          MONGODB_DB: `${infra.dbName}_${name}`,
          ...(name === 'assignment' && urls.registry ? { REGISTRY_URL: urls.registry } : {}),
          // The consumer groups of this test's own (prefixed) topics.
          ...(name === 'analytics' ? { ANALYTICS_CONSUMER_GROUP: `${infra.id}-analytics` } : {}),
          ...(name === 'datasets' ? { DATASETS_CONSUMER_GROUP: `${infra.id}-datasets` } : {}),
          PORT: String(ports[name]),
          HOST: '127.0.0.1',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    children.set(name, child);
    const append = (d: Buffer) => outputs.set(name, (outputs.get(name) ?? '') + d.toString());
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    const probe = KEY_PROBES[name];
    await expectEventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`${name} exited:\n${outputs.get(name)?.slice(-3000)}`);
        const ready = await fetch(`${urls[name]}/health/ready`);
        expect(ready.status).toBe(200);
        const known = await fetch(`${urls[name]}${probe.path}`, {
          method: probe.method,
          headers: key.header,
        });
        expect(known.status).not.toBe(401);
      },
      { timeoutMs: 90_000, intervalMs: 200 },
    );
  };

  const stop = async (name: StackService) => {
    const child = children.get(name);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };

  const stack: Stack = {
    infra,
    key,
    urls,
    stop,
    start,
    output: (name) => outputs.get(name) ?? '',
    close: async () => {
      await Promise.all(names.map(stop));
    },
  };
  try {
    // The registry first: assignment resolves prompt refs through it.
    if (names.includes('registry')) await start('registry');
    await Promise.all(names.filter((n) => n !== 'registry').map(start));
  } catch (err) {
    await Promise.all([...children.values()].map((c) => c.kill('SIGKILL')));
    throw err;
  }
  return stack;
}

/** JSON over HTTP with the stack's key. */
export async function api(
  stack: Stack,
  service: StackService,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${stack.urls[service]}${path}`, {
    method,
    headers: { ...stack.key.header, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
}
