/**
 * Production runs the compiled JavaScript (`npm run build`; the Docker image and the Kubernetes
 * manifests start `node --enable-source-maps dist/services/<name>/src/main.js`), while the other
 * end-to-end tests run the TypeScript sources. This test builds (through Nx, so an unchanged tree
 * is a cache hit), starts the six built services on real Kafka and MongoDB and checks that each
 * is ready, serves its OpenAPI document (built from the decorators' metadata) and answers API
 * calls with keys, and that a generation logged at the built feedback service comes out of the
 * built datasets service as a JSONL line, so a broken build fails `npm test`.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expectEventually, imageCommand, testInfra } from '@llmops/testing';
import {
  httpJson,
  type RunningPlatform,
  SERVICE_NAMES,
  type ServiceName,
  startAllServices,
} from '../support/service-process';

const root = join(__dirname, '..', '..');

describe('the built services', () => {
  const infra = testInfra();
  let platform: RunningPlatform;
  const url = (name: ServiceName): string => platform.url(name);

  beforeAll(async () => {
    const nx = join(root, 'node_modules', '.bin', 'nx');
    await promisify(execFile)(nx, ['run-many', '-t', 'build', '--outputStyle=static'], { cwd: root }).catch(
      (err: Error & { stdout?: string; stderr?: string }) => {
        err.message += `\n${err.stdout ?? ''}${err.stderr ?? ''}`;
        throw err;
      },
    );
    platform = await startAllServices(infra, {}, 'built');
  }, 180_000);

  afterAll(async () => {
    await platform?.stop('SIGTERM');
  });

  it('run from dist/ and are ready on Kafka and MongoDB', async () => {
    for (const name of SERVICE_NAMES) {
      const s = platform.services.get(name)!;
      // The image's own command (deploy/docker/Dockerfile), which runs the build in dist/.
      expect(s.child.spawnargs.slice(1)).toEqual(imageCommand(name).slice(1));
      expect(s.child.spawnargs).toEqual(
        expect.arrayContaining(['--enable-source-maps', join('dist', 'services', name, 'src', 'main.js')]),
      );
      const ready = await httpJson(`${s.url}/health/ready`);
      expect({ name, status: ready.status }).toEqual({ name, status: 200 });
    }
  });

  it('serve their OpenAPI documents', async () => {
    for (const name of SERVICE_NAMES) {
      const docs = await httpJson(`${url(name)}/docs-json`);
      expect({ name, status: docs.status }).toEqual({ name, status: 200 });
      expect(docs.body).toMatchObject({ openapi: expect.stringMatching(/^3\.1\./) });
    }
  });

  it('answer API calls with keys: a key created by identity registers a prompt version and reads it back', async () => {
    const key = await platform.identity.createKey('default', {
      name: 'built smoke',
      scopes: ['prompts:write', 'prompts:read'],
    });
    const created = await httpJson(`${url('registry')}/v1/prompts/built-smoke/versions`, {
      method: 'POST',
      headers: { ...key.header, 'content-type': 'application/json' },
      body: JSON.stringify({ spec: { template: 'Summarize: {text}', model: 'gpt-4o-mini' } }),
    });
    expect(created.status).toBe(201);
    const { shortHash } = created.body as { shortHash: string };
    const read = await httpJson(`${url('registry')}/v1/prompts/built-smoke/versions/${shortHash}`, {
      headers: key.header,
    });
    expect(read).toMatchObject({ status: 200, body: { name: 'built-smoke', shortHash } });
    const anonymous = await httpJson(`${url('registry')}/v1/prompts/built-smoke/versions/${shortHash}`);
    expect(anonymous.status).toBe(401);
  });

  it('carry a generation and its correction through Kafka into a dataset snapshot downloaded as JSONL', async () => {
    const key = await platform.identity.createKey('default', {
      name: 'built datasets',
      scopes: ['ingest', 'datasets:read', 'datasets:write'],
    });
    const post = (service: ServiceName, path: string, body?: unknown) =>
      httpJson(`${url(service)}${path}`, {
        method: 'POST',
        headers: { ...key.header, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const generation = {
      requestId: 'built-1',
      model: 'gpt-4o-mini',
      input: 'Summarize: a built service',
      output: 'Built.',
      latencyMs: 120,
    };
    expect((await post('feedback', '/v1/generations', generation)).status).toBe(202);
    const feedback = {
      requestId: 'built-1',
      rating: 2,
      correction: 'A built service runs dist/.',
      source: 'user',
    };
    expect((await post('feedback', '/v1/feedback', feedback)).status).toBe(202);
    expect(
      (
        await post('datasets', '/v1/datasets', {
          name: 'built-sft',
          format: 'chat',
          filter: { hasCorrection: true },
        })
      ).status,
    ).toBe(201);
    // Snapshot until the consumer has materialized both events (earlier snapshots are empty).
    await expectEventually(
      async () => {
        const snapshot = await post('datasets', '/v1/datasets/built-sft/snapshots');
        expect(snapshot.body).toMatchObject({ records: 1, splits: { train: 1 } });
      },
      { timeoutMs: 60_000, intervalMs: 1_000 },
    );
    const download = await fetch(
      `${url('datasets')}/v1/datasets/built-sft/snapshots/latest/download?split=train`,
      {
        headers: key.header,
        signal: AbortSignal.timeout(10_000),
      },
    );
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const lines = (await download.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
    expect(lines).toEqual([
      {
        messages: [
          { role: 'user', content: generation.input },
          { role: 'assistant', content: feedback.correction },
        ],
      },
    ]);
  }, 90_000);
});
