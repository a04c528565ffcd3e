/**
 * The registry dependency of integration tests: the REAL registry service started as a child
 * process (`node -r @swc-node/register services/registry/src/main.ts`), with its own database and
 * this test's topic prefix (so it reads the test's API keys). Prompt versions are registered
 * through its HTTP API, with a key of its own (every scope in `default`) or the one given.
 * A tiny in-test stub serving the one GET route is kept for tests that need a registry that can
 * be made unreachable on purpose.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import {
  expectEventually,
  freePort,
  type IssuedTestKey,
  issueTestKey,
  TEST_KEY_PEPPER,
  type TestInfra,
} from '@llmops/testing';
import Fastify, { type FastifyInstance } from 'fastify';

const ROOT = path.resolve(__dirname, '../../../..');

export interface RegistryHandle {
  url: string;
  /**
   * Registers `{ template, model }` in the project of `as` (default: the handle's own key, in
   * `default`) and returns its full hash. Retries while the registry does not know the key yet.
   */
  register(
    name: string,
    template: string,
    model?: string,
    as?: Pick<IssuedTestKey, 'header'>,
  ): Promise<string>;
  stop(): Promise<void>;
}

async function waitReady(
  url: string,
  child: ChildProcess,
  output: () => string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`registry exited with ${child.exitCode}:\n${output()}`);
    try {
      const res = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`registry not ready within ${timeoutMs} ms:\n${output()}`);
}

export async function startRealRegistry(infra: TestInfra, timeoutMs = 60_000): Promise<RegistryHandle> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'services/registry/src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      PORT: String(port),
      HOST: '127.0.0.1',
      MONGODB_URI: infra.mongoBaseUri,
      MONGODB_DB: `${infra.dbName}_registry`,
      KAFKA_BROKERS: infra.kafkaBrokers,
      KAFKA_TOPIC_PREFIX: infra.topicPrefix,
      LOG_LEVEL: 'warn',
      LLMOPS_KEY_PEPPER: TEST_KEY_PEPPER,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const keep = (chunk: Buffer): void => {
    log = (log + chunk.toString()).slice(-8_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  let own: IssuedTestKey;
  try {
    // Issued before the registry is ready: its readiness waits until it has read the keys topic.
    own = await issueTestKey(infra, { name: 'assignment tests: registry' });
    await waitReady(url, child, () => log, timeoutMs);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    stop,
    async register(name, template, model = 'gpt-4o-mini', as = own) {
      const post = () =>
        fetch(`${url}/v1/prompts/${encodeURIComponent(name)}/versions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...as.header },
          body: JSON.stringify({ spec: { template, model } }),
        });
      const res = await expectEventually(async () => {
        const r = await post();
        expect(r.status).not.toBe(401);
        return r;
      });
      const body = (await res.json()) as { hash?: string };
      if (!res.ok || typeof body.hash !== 'string') {
        throw new Error(`registering ${name} failed: HTTP ${res.status} ${JSON.stringify(body)}`);
      }
      return body.hash;
    },
  };
}

/** In-test stub of `GET /v1/prompts/{name}/versions/{ref}` (404 for unknown refs). */
export async function startStubRegistry(): Promise<RegistryHandle & { server: FastifyInstance }> {
  const versions = new Map<string, { name: string; hash: string; version: number }>();
  const server = Fastify();
  server.get<{ Params: { name: string; ref: string } }>(
    '/v1/prompts/:name/versions/:ref',
    async (req, reply) => {
      const v = versions.get(`${req.params.name}\u0000${req.params.ref}`);
      if (!v)
        return reply.status(404).send({ error: { code: 'prompt_version_not_found', message: 'not found' } });
      return { ...v, shortHash: v.hash.slice(0, 12) };
    },
  );
  await server.listen({ port: 0, host: '127.0.0.1' });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    async register(name, template, model = 'gpt-4o-mini') {
      const hash = createHash('sha256').update(JSON.stringify({ model, template })).digest('hex');
      const version = [...versions.values()].filter((v) => v.name === name).length / 2 + 1;
      const entry = { name, hash, version };
      versions.set(`${name}\u0000${hash}`, entry);
      versions.set(`${name}\u0000${version}`, entry);
      return hash;
    },
    async stop() {
      await server.close();
    },
  };
}
