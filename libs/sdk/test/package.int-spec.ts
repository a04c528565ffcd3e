/**
 * The published package as a user gets it: `npm pack` of libs/sdk, the tarball installed into an
 * empty folder (its dependencies, openapi-fetch, ajv and the CLI's commander and yaml, from the npm
 * cache), its `llmops` command answering, then a script there that
 * requires `@llmops/client`, configured only by environment variables, against real registry and
 * feedback processes; a TypeScript file type-checks against the installed declarations; the
 * bundle holds none of the platform's server dependencies. The README's TypeScript quick start runs
 * there too.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOPICS, topicName } from '@llmops/contracts';
import { expectEventually, readTopicUntil } from '@llmops/testing';
import { api, type Stack, startStack } from './support/stack';

const ROOT = join(__dirname, '..', '..', '..');
const SDK = join(ROOT, 'libs', 'sdk');
const npm = (args: string[], cwd: string) =>
  execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });

/** The newest modification time under `dir`. */
function newest(dir: string): number {
  return Math.max(
    ...readdirSync(dir, { withFileTypes: true }).map((e) =>
      e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs,
    ),
  );
}

/** The ```ts block of the root README's "TypeScript SDK" quick start. */
function readmeExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const match = /```ts\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('### TypeScript SDK')));
  if (!match) throw new Error('README.md: no ```ts block under "### TypeScript SDK"');
  return match[1];
}

let stack: Stack;
let folder: string;

beforeAll(async () => {
  // `npm run build` builds the package; build it here too when the sources are newer.
  const built = join(SDK, 'dist', 'index.js');
  let stale = true;
  try {
    stale =
      statSync(built).mtimeMs <
      Math.max(newest(join(SDK, 'src')), newest(join(ROOT, 'libs', 'prompts', 'src')));
  } catch {
    /* not built */
  }
  if (stale)
    execFileSync('npx', ['tsup', '--config', 'libs/sdk/tsup.config.ts', '--silent'], {
      cwd: ROOT,
      timeout: 300_000,
    });
  folder = mkdtempSync(join(tmpdir(), 'llmops-client-'));
  stack = await startStack(['registry', 'assignment', 'feedback']);
}, 600_000);

afterAll(async () => {
  await stack?.close();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

it('packs dist only, installs into an empty folder and works there against the platform', async () => {
  const [packed] = JSON.parse(npm(['pack', '--json', '--pack-destination', folder], SDK)) as Array<{
    filename: string;
    files: Array<{ path: string }>;
  }>;
  const files = packed.files.map((f) => f.path).sort();
  expect(files).toEqual(expect.arrayContaining(['package.json', 'dist/index.js', 'dist/index.d.ts']));
  expect(files.filter((f) => f !== 'package.json' && f !== 'README.md' && !f.startsWith('dist/'))).toEqual(
    [],
  );

  writeFileSync(join(folder, 'package.json'), JSON.stringify({ name: 'app', private: true }));
  npm(['install', '--prefer-offline', '--no-audit', '--no-fund', join(folder, packed.filename)], folder);
  const installed = join(folder, 'node_modules', '@llmops', 'client');
  expect(JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'))).toMatchObject({
    name: '@llmops/client',
    engines: { node: '>=20' },
  });
  expect(readdirSync(join(folder, 'node_modules')).sort()).toEqual([
    '.bin',
    '.package-lock.json',
    '@llmops',
    'ajv',
    'commander',
    'fast-deep-equal',
    'fast-uri',
    'json-schema-traverse',
    'openapi-fetch',
    'openapi-typescript-helpers',
    'require-from-string',
    'yaml',
  ]);
  // Everything it requires at run time: Node's own modules, openapi-fetch and ajv, nothing of the servers.
  const bundle = readFileSync(join(installed, 'dist', 'index.js'), 'utf8');
  const required = [...new Set([...bundle.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]))].sort();
  expect(
    required.filter(
      (r) => !['crypto', 'timers/promises', 'openapi-fetch', 'ajv'].includes(r.replace(/^node:/, '')),
    ),
  ).toEqual([]);
  expect(bundle).not.toMatch(/@nestjs|kafkajs|mongoose|zod/);
  // The CLI (bin `llmops`) needs commander and yaml besides, nothing of the servers either.
  const cli = readFileSync(join(installed, 'dist', 'cli.js'), 'utf8');
  const cliRequires = [...new Set([...cli.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]))];
  expect(
    cliRequires.filter(
      (r) =>
        !['crypto', 'fs', 'path', 'stream', 'stream/promises', 'timers/promises'].includes(
          r.replace(/^node:/, ''),
        ) && !['ajv', 'commander', 'openapi-fetch', 'yaml'].includes(r),
    ),
  ).toEqual([]);
  expect(cli).not.toMatch(/@nestjs|kafkajs|mongoose|zod/);
  expect(
    execFileSync(join(folder, 'node_modules', '.bin', 'llmops'), ['--version'], { encoding: 'utf8' }).trim(),
  ).toBe(JSON.parse(readFileSync(join(SDK, 'package.json'), 'utf8')).version);

  const spec = { template: 'Summarize: {text}', model: 'gpt-4o-mini' };
  const registered = await api(stack, 'registry', 'POST', '/v1/prompts/packed/versions', { spec });
  expect(registered.status).toBe(201);

  writeFileSync(
    join(folder, 'app.js'),
    `const { LlmopsClient, LlmopsHttpError } = require('@llmops/client');
(async () => {
  const client = new LlmopsClient();
  const rendered = await client.prompts.render('packed', 'latest', { text: 'the report' });
  const requestId = await client.generations.log({ model: rendered.model, input: rendered.text, output: 'ok', latencyMs: 12 });
  const feedbackId = await client.feedback.log({ requestId, rating: 5 });
  const flushed = await client.flush();
  const missing = await client.prompts.get('missing').catch((e) => e);
  await client.shutdown();
  console.log(JSON.stringify({ rendered, requestId, feedbackId, flushed, metrics: client.metrics(),
    missing: { http: missing instanceof LlmopsHttpError, code: missing.code, status: missing.status } }));
})().catch((e) => { console.error(e); process.exit(1); });
`,
  );
  const out = JSON.parse(
    execFileSync(process.execPath, ['app.js'], {
      cwd: folder,
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        PATH: process.env.PATH,
        LLMOPS_API_KEY: stack.key.key,
        LLMOPS_REGISTRY_URL: stack.urls.registry,
        LLMOPS_FEEDBACK_URL: stack.urls.feedback,
      },
    }),
  ) as {
    rendered: Record<string, unknown>;
    requestId: string;
    feedbackId: string;
    flushed: unknown;
    metrics: { sent: number };
    missing: unknown;
  };
  expect(out.rendered).toMatchObject({
    name: 'packed',
    hash: (registered.body as { hash: string }).hash,
    text: 'Summarize: the report',
    served: 'fresh',
  });
  expect(out.flushed).toEqual({ rejected: [] });
  expect(out.metrics.sent).toBe(2);
  expect(out.missing).toEqual({ http: true, code: 'prompt_not_found', status: 404 });
  const records = await readTopicUntil(
    stack.infra.kafkaBrokers,
    topicName(TOPICS.feedback, stack.infra.topicPrefix),
    (r) => r.some((x) => x.value.includes(out.feedbackId)),
  );
  expect(records.filter((r) => r.value.includes(out.feedbackId))).toHaveLength(1);

  // The declarations type-check a user's TypeScript, strictly, without @types/node.
  writeFileSync(
    join(folder, 'check.ts'),
    `import { LlmopsClient, LlmopsError, type AssignResult, type RenderResult } from '@llmops/client';
const client = new LlmopsClient({ buffer: { overflow: 'block' }, prompts: { ttlMs: 1000 } });
export async function use(): Promise<[AssignResult, RenderResult, string]> {
  const a = await client.experiments.assign('key', 'user', { plan: 'pro' });
  const r = await client.prompts.render('name', 'production', { text: 'x' });
  const id = await client.feedback.log({ requestId: 'r', thumbs: 'up' });
  return [a, r, id];
}
export const isPlatformError = (e: unknown): string | undefined => (e instanceof LlmopsError ? e.code : undefined);
`,
  );
  writeFileSync(
    join(folder, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        target: 'es2022',
        lib: ['es2022', 'dom'],
        types: [],
        module: 'commonjs',
        moduleResolution: 'node',
      },
      files: ['check.ts'],
    }),
  );
  execFileSync(
    process.execPath,
    [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'],
    {
      cwd: folder,
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
}, 600_000);

it("runs the README's TypeScript quick start from the installed package", async () => {
  // What the reader has from the assignment service's quick start: experiment summarizer-prompt.
  for (const template of ['Summarize the following text:\n{text}', 'Write a 2-sentence summary:\n{text}'])
    expect(
      (
        await api(stack, 'registry', 'POST', '/v1/prompts/summarizer/versions', {
          spec: { template, model: 'gpt-4o-mini' },
        })
      ).status,
    ).toBe(201);
  const arm = (name: string, ref: string) => ({ name, weight: 0.5, prompt: { name: 'summarizer', ref } });
  const created = await api(stack, 'assignment', 'POST', '/v1/experiments', {
    key: 'summarizer-prompt',
    arms: [arm('A', '1'), arm('B', '2')],
    targeting: [{ attribute: 'country', op: 'in', values: ['DE', 'FR', 'US'] }],
  });
  expect(created.status).toBe(201);
  expect((await api(stack, 'assignment', 'POST', '/v1/experiments/summarizer-prompt/start')).status).toBe(
    200,
  );
  // The feedback service learns experiments from Kafka: wait until it accepts a generation naming it.
  await expectEventually(async () =>
    expect(
      (
        await api(stack, 'feedback', 'POST', '/v1/generations', {
          requestId: 'readme-probe',
          experiment: 'summarizer-prompt',
          model: 'm',
          output: 'o',
          latencyMs: 1,
        })
      ).status,
    ).toBe(202),
  );

  writeFileSync(join(folder, 'readme.mjs'), readmeExample());
  const out = execFileSync(process.execPath, ['readme.mjs'], {
    cwd: folder,
    encoding: 'utf8',
    timeout: 60_000,
    env: {
      PATH: process.env.PATH,
      LLMOPS_API_KEY: stack.key.key,
      LLMOPS_REGISTRY_URL: stack.urls.registry,
      LLMOPS_ASSIGNMENT_URL: stack.urls.assignment,
      LLMOPS_FEEDBACK_URL: stack.urls.feedback,
    },
  });
  expect(out).toMatch(/^[AB] hash fresh \{ rejected: \[\] \}\n$/);
}, 120_000);
