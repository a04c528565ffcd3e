/**
 * Runs the analytics service as a real child process (so it can be SIGKILLed), with the test pepper
 * and a key of project `default` holding every scope, issued before the service starts (so it is
 * known once the service is ready) and sent by default.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { type IssuedTestKey, issueTestKey, TEST_KEY_PEPPER } from '@llmops/testing';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface ServiceProcess {
  port: number;
  /** The default key's `authorization` header. */
  headers: Record<string, string>;
  child: ChildProcess;
  exited: Promise<number | null>;
  output(): string;
}

const ROOT = path.resolve(__dirname, '../../../..');

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
  const port = await freePort();
  const { header } = await defaultKey(env);
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'services/analytics/src/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      LOG_LEVEL: 'warn',
      LLMOPS_KEY_PEPPER: TEST_KEY_PEPPER,
      ...env,
      PORT: String(port),
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (b: Buffer) => {
    out = (out + b.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { port, headers: header, child, exited, output: () => out };
}

export async function killHard(p: ServiceProcess): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await p.exited;
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
