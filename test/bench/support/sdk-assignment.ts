/**
 * The assignment service the SDK assignment benchmarks assign against: the real service as a
 * process (its own database and topic prefix), a stub registry for the one prompt lookup of each
 * experiment's creation, an API key as the identity service would issue it, and one running
 * two-arm experiment. The SDKs take its snapshot from `GET /v1/experiments/snapshots` as in
 * production, and send their exposures to `POST /v1/exposures`, which checks each one against the
 * service's own assignment.
 */
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import Fastify from 'fastify';
import { type IssuedTestKey, issueTestKey, TEST_KEY_PEPPER } from '@llmops/testing';
import { KAFKA, listen, startReadyService } from './harness';

export const SDK_BENCH_EXPERIMENT = 'bench-sdk';

export interface AssignmentStack {
  url: string;
  key: IssuedTestKey;
  experiment: string;
  close(): Promise<void>;
}

/**
 * Starts the stack of run `run`; its processes are pushed onto `children` at once, so the caller's
 * `finally` stops them (the stub registry is closed by `close`).
 */
export async function startAssignmentStack(run: string, children: ChildProcess[]): Promise<AssignmentStack> {
  const registry = Fastify();
  registry.get<{ Params: { name: string; ref: string } }>('/v1/prompts/:name/versions/:ref', async (req) => ({
    name: req.params.name,
    hash: createHash('sha256').update(req.params.ref).digest('hex'),
    version: 1,
  }));
  try {
    const registryUrl = await listen(registry);
    const key = await issueTestKey(
      { kafkaBrokers: KAFKA, topicPrefix: `${run}.` },
      {
        name: 'sdk assignment benchmark',
        scopes: ['assign', 'experiments:read', 'experiments:write', 'prompts:read'],
      },
    );
    const { url } = await startReadyService(
      'services/assignment/src/main.ts',
      {
        run,
        db: 'assignment',
        env: {
          REGISTRY_URL: registryUrl,
          LLMOPS_KEY_PEPPER: TEST_KEY_PEPPER,
          RATE_LIMIT_ASSIGN: '10000000',
        },
      },
      children,
    );
    const post = async (path: string, body?: unknown): Promise<void> => {
      const r = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: { ...key.header, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (!r.ok) throw new Error(`POST ${path}: ${r.status} ${await r.text()}`);
    };
    await post('/v1/experiments', {
      key: SDK_BENCH_EXPERIMENT,
      arms: [
        { name: 'A', weight: 0.5, prompt: { name: 'summarizer', ref: '1' } },
        { name: 'B', weight: 0.5, prompt: { name: 'summarizer', ref: '2' } },
      ],
    });
    await post(`/v1/experiments/${SDK_BENCH_EXPERIMENT}/start`);
    return { url, key, experiment: SDK_BENCH_EXPERIMENT, close: () => registry.close() };
  } catch (err) {
    await registry.close();
    throw err;
  }
}
