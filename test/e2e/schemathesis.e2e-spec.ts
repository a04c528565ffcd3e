/**
 * The API gate. Every service as a process on real Kafka and MongoDB; for each one:
 *  - its OpenAPI document (GET /docs-json) is valid OpenAPI 3.1 (@readme/openapi-parser), every
 *    `$ref` resolves inside it, and every operation documents the platform's errors with the error
 *    body schema;
 *  - schemathesis (`st run`, every check, every phase) finds 0 failures against it, with a bounded
 *    number of examples per operation, a fixed seed and a wall-clock cap. Its requests carry the
 *    operator's key (every scope in `default` plus `platform:admin`), so every operation is
 *    reachable, and its `ignored_auth` check sends them without it too. The exceptions, per
 *    operation and per check, are in schemathesis.toml with the reason for each.
 * .ci/run installs schemathesis into .local/venv; on a developer machine without it the schemathesis
 * tests are skipped (they say so), in CI (CI=true) its absence is a failure.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validate } from '@readme/openapi-parser';
import { testInfra } from '@llmops/testing';
import type { ApiKey } from '../support/keys';
import {
  httpJson,
  type RunningPlatform,
  SERVICE_NAMES as NAMES,
  type ServiceName as Name,
  startAllServices,
} from '../support/service-process';

const root = join(__dirname, '..', '..');

/** Examples per operation and phase: enough to cover every documented constraint, few enough for CI. */
const MAX_EXAMPLES = 10;
const SEED = 20261206;
/** Wall-clock cap of one service's run; a run normally takes well under a minute. */
const RUN_CAP_MS = 240_000;
/** The gate tests the API, not the per-key limits (they have tests of their own): far above its rate. */
const NO_LIMIT = '1000000';
const NO_LIMITS = {
  RATE_LIMIT_ASSIGN: NO_LIMIT,
  RATE_LIMIT_INGEST: NO_LIMIT,
  RATE_LIMIT_WRITE: NO_LIMIT,
  RATE_LIMIT_READ: NO_LIMIT,
};

/** `st` from .ci/run's venv, else on the PATH (checked to be schemathesis, not another `st`). */
function findSchemathesis(): string | undefined {
  for (const bin of [join(root, '.local', 'venv', 'bin', 'st'), 'st', 'schemathesis']) {
    const probe = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    if (probe.status === 0 && /^st, version 4\./m.test(probe.stdout)) return bin;
  }
  return undefined;
}

const schemathesis = findSchemathesis();
const withSchemathesis = schemathesis ? it : it.skip;
if (!schemathesis && process.env.CI !== 'true') {
  console.warn(
    'schemathesis not found (.local/venv/bin/st or st on the PATH): skipping the schemathesis gate. ' +
      'Install it with: python3 -m venv .local/venv && .local/venv/bin/pip install schemathesis==4.32.5',
  );
}

interface RunResult {
  code: number | null;
  timedOut: boolean;
  output: string;
  ms: number;
}

function runSchemathesis(bin: string, docUrl: string, key: ApiKey): Promise<RunResult> {
  // Its own working directory: schemathesis and hypothesis write state folders there.
  const cwd = mkdtempSync(join(tmpdir(), 'schemathesis-'));
  const started = Date.now();
  // No `--checks`: every check is on by default, and `--checks all` on the command line would
  // override the per-operation exceptions of the config file.
  const args = [
    '--config-file',
    join(__dirname, 'schemathesis.toml'),
    'run',
    docUrl,
    '--no-color',
    '--max-examples',
    String(MAX_EXAMPLES),
    '--seed',
    String(SEED),
    '--request-timeout',
    '10',
    '--workers',
    '1',
    '--generation-database',
    'none',
    '--header',
    `Authorization: ${key.header.authorization}`,
  ];
  return new Promise((resolve) => {
    let output = '';
    const child = spawn(bin, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    let timedOut = false;
    const cap = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, RUN_CAP_MS);
    child.once('exit', (code) => {
      clearTimeout(cap);
      rmSync(cwd, { recursive: true, force: true });
      resolve({ code, timedOut, output, ms: Date.now() - started });
    });
  });
}

type Json = Record<string, unknown>;

/** Every `$ref` in the document (and any `$defs` left in it). */
function refsOf(node: unknown, refs: string[] = [], defs: string[] = [], path = '#'): [string[], string[]] {
  if (Array.isArray(node)) node.forEach((n, i) => refsOf(n, refs, defs, `${path}/${i}`));
  else if (node !== null && typeof node === 'object') {
    for (const [k, v] of Object.entries(node as Json)) {
      if (k === '$ref' && typeof v === 'string') refs.push(v);
      if (k === '$defs') defs.push(path);
      refsOf(v, refs, defs, `${path}/${k}`);
    }
  }
  return [refs, defs];
}

function resolvePointer(doc: Json, ref: string): unknown {
  return ref
    .slice(2)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((node, token) => (node as Json | undefined)?.[token], doc);
}

describe('OpenAPI documents and the schemathesis gate', () => {
  const infra = testInfra();
  let platform: RunningPlatform;
  const docs = new Map<Name, Json>();

  beforeAll(async () => {
    platform = await startAllServices(
      infra,
      Object.fromEntries(NAMES.map((name) => [name, NO_LIMITS])) as Record<Name, typeof NO_LIMITS>,
    );
    for (const [name, s] of platform.services) {
      const res = await httpJson(`${s.url}/docs-json`);
      expect(res.status).toBe(200);
      docs.set(name, res.body as Json);
    }
  }, 180_000);

  afterAll(async () => {
    await platform?.stop('SIGTERM');
  });

  it('has schemathesis available in CI', () => {
    if (process.env.CI === 'true') expect(schemathesis).toBeDefined();
  });

  it.each(NAMES)('%s: its document is valid OpenAPI 3.1 and every $ref resolves in it', async (name) => {
    const doc = docs.get(name)!;
    expect(doc.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(doc) as never);
    expect('errors' in result ? result.errors : []).toEqual([]);
    expect(result.valid).toBe(true);
    const [refs, defs] = refsOf(doc);
    expect(defs).toEqual([]);
    for (const ref of new Set(refs)) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect({ ref, target: resolvePointer(doc, ref) !== undefined }).toEqual({ ref, target: true });
    }
  });

  it.each(NAMES)(
    '%s: every operation takes a key and documents its success and its errors (with the error body)',
    (name) => {
      const doc = docs.get(name)!;
      const errorBody = (doc.components as Json).schemas as Json;
      expect(errorBody.ErrorBody).toMatchObject({ required: ['error'] });
      const problems: string[] = [];
      for (const [path, item] of Object.entries(doc.paths as Json)) {
        for (const [method, op] of Object.entries(item as Json)) {
          const operation = op as {
            parameters?: Array<{ in: string }>;
            requestBody?: unknown;
            responses: Json;
            security?: unknown[];
          };
          const expected = ['400', '500', '503'];
          // Every API operation takes a key: its answers without one, without the scope, over the limit.
          if (!operation.security?.length) problems.push(`${method.toUpperCase()} ${path}: no security`);
          else expected.push('401', '403', '429');
          if (operation.parameters?.some((p) => p.in === 'path')) expected.push('404');
          if (operation.requestBody) expected.push('413', '415');
          for (const status of expected) {
            if (!operation.responses[status]) problems.push(`${method.toUpperCase()} ${path}: no ${status}`);
          }
          // Nest documents a default 200 only for a handler without any @ApiResponse.
          if (!Object.keys(operation.responses).some((status) => /^[23]/.test(status))) {
            problems.push(`${method.toUpperCase()} ${path}: no success response`);
          }
          for (const [status, response] of Object.entries(operation.responses)) {
            const content = (response as { content?: Json }).content;
            if (/^[45]/.test(status) && !content?.['application/json']) {
              problems.push(`${method.toUpperCase()} ${path}: ${status} has no application/json body schema`);
            }
          }
        }
      }
      expect(problems).toEqual([]);
    },
  );

  // One service at a time: the machine has two cores, and the services share them with schemathesis.
  withSchemathesis.each(NAMES)(
    '%s: schemathesis finds 0 failures',
    async (name) => {
      const result = await runSchemathesis(schemathesis!, `${platform.url(name)}/docs-json`, platform.admin);
      console.log(`schemathesis against ${name}: exit ${result.code} in ${(result.ms / 1000).toFixed(1)} s`);
      if (result.code !== 0 || result.timedOut) {
        throw new Error(
          `schemathesis against ${name} ${result.timedOut ? `did not finish within ${RUN_CAP_MS / 1000} s` : `exited ${result.code}`}:\n${result.output}`,
        );
      }
      expect(result.output).toMatch(/Test cases:\s+\d+ generated, \d+ passed/);
    },
    RUN_CAP_MS + 30_000,
  );
});
