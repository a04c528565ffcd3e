/**
 * The `llmops` CLI against real registry, assignment, feedback, analytics and datasets processes
 * (feedback takes the generations a dataset is made of): the root
 * README's CLI examples run as written (through bash, as `npx llmops` from the workspace), each
 * command's output as text and with --json, the exit code and message of a platform error (bad
 * files and usage, refused before any request, are in src/cli.spec.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { expectEventually, extractExamples, extractFiles, runExample } from '@llmops/testing';
import { EXIT, run } from '../src/cli';
import { LlmopsClient } from '../src/client';
import { api, type Stack, startStack } from './support/stack';

const ROOT = join(__dirname, '..', '..', '..');
const LAUNCHER = join(ROOT, 'libs', 'sdk', 'bin', 'llmops.js');

let stack: Stack;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'llmops-cli-'));
  stack = await startStack(['registry', 'assignment', 'feedback', 'analytics', 'datasets']);
  env = {
    LLMOPS_API_KEY: stack.key.key,
    LLMOPS_REGISTRY_URL: stack.urls.registry,
    LLMOPS_ASSIGNMENT_URL: stack.urls.assignment,
    LLMOPS_ANALYTICS_URL: stack.urls.analytics,
    LLMOPS_DATASETS_URL: stack.urls.datasets,
  };
}, 180_000);

afterAll(async () => {
  await stack?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs the CLI in-process with the stack's key and URLs; resolves with its exit code and output. */
async function cli(
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string; json: () => Record<string, unknown> }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (d: Buffer) => out.push(d.toString()));
  stderr.on('data', (d: Buffer) => err.push(d.toString()));
  const code = await run(args, { stdout, stderr, env });
  const text = out.join('');
  return {
    code,
    stdout: text,
    stderr: err.join(''),
    json: () => JSON.parse(text) as Record<string, unknown>,
  };
}

const file = (name: string, content: string): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

it("runs the root README's CLI examples as written", async () => {
  const readme = join(ROOT, 'README.md');
  const cwd = join(dir, 'readme');
  mkdirSync(join(cwd, '.local'), { recursive: true });
  writeFileSync(join(cwd, '.local', 'dev-admin-key'), `${stack.key.key}\n`);
  for (const f of extractFiles(readme)) writeFileSync(join(cwd, f.name), f.content);
  const examples = extractExamples(readme, 'npx llmops');
  expect(examples.length).toBeGreaterThanOrEqual(10);
  const { LLMOPS_API_KEY: _key, ...urls } = env;
  for (const ex of examples) {
    const where = `README.md:${ex.line}`;
    // The workspace's `npx llmops` is this launcher (a test below runs npx itself).
    const command = ex.command.replace(/^npx llmops\s/, `node ${LAUNCHER} `);
    const once = async () => {
      const { exit, stderr } = await runExample({ command, setup: ex.setup }, { cwd, vars: urls });
      expect({ where, exit, stderr }).toEqual({
        where,
        exit: ex.expectExit ?? 0,
        stderr: expect.any(String),
      });
    };
    // Results appear once analytics has consumed the experiment's creation.
    if (/experiments results/.test(command))
      await expectEventually(once, { timeoutMs: 30_000, intervalMs: 1_000 });
    else await once();
  }
  const pairs = readFileSync(join(cwd, 'pairs.train.jsonl'), 'utf8');
  expect(pairs).toBe(''); // no generations in this stack: the snapshot holds no pairs
}, 120_000);

it('`npx llmops` works from the workspace root', () => {
  const help = execFileSync('npx', ['--offline', 'llmops', '--help'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(help).toMatch(/^Usage: llmops \[options\] \[command\]/);
  for (const command of ['prompts', 'experiments', 'datasets']) expect(help).toContain(command);
});

describe('prompts', () => {
  const spec = {
    template: 'Translate to French: {text}',
    model: 'gpt-4o-mini',
    params: { temperature: 0.3 },
  };

  it('push registers a JSON or YAML file once, get prints a file push takes again', async () => {
    const json = file('translator.json', JSON.stringify({ name: 'translator', spec }));
    const pushed = await cli('prompts', 'push', json);
    expect(pushed).toMatchObject({ code: EXIT.ok, stderr: '' });
    expect(pushed.stdout).toMatch(/^translator version 1 [0-9a-f]{64} \(registered\)\n$/);
    const again = await cli('--json', 'prompts', 'push', json);
    expect(again.json()).toMatchObject({ name: 'translator', version: 1, created: false });

    const got = await cli('prompts', 'get', 'translator');
    expect(got.code).toBe(EXIT.ok);
    expect(got.stdout).toMatch(/^# translator version 1, hash [0-9a-f]{64}, created /);
    const yaml = file('translator-copy.yaml', got.stdout);
    expect((await cli('--json', 'prompts', 'push', yaml)).json()).toMatchObject({
      version: 1,
      created: false,
    });

    const registry = await api(stack, 'registry', 'GET', '/v1/prompts/translator/versions/1');
    expect((await cli('--json', 'prompts', 'get', 'translator', '1')).json()).toEqual(registry.body);
  });

  it('diff prints the changed fields and the unified template diff; promote moves an alias', async () => {
    file('t2.yaml', 'name: translator\nspec:\n  template: "Translate to German: {text}"\n  model: gpt-4o\n');
    expect((await cli('prompts', 'push', join(dir, 't2.yaml'))).code).toBe(EXIT.ok);
    const diff = await cli('prompts', 'diff', 'translator', '1', '2');
    expect(diff.code).toBe(EXIT.ok);
    expect(diff.stdout).toContain('translator v1 (');
    expect(diff.stdout).toContain('model, params, template changed');
    expect(diff.stdout).toContain('  model: "gpt-4o-mini" -> "gpt-4o"');
    expect(diff.stdout).toMatch(
      /^--- translator@[0-9a-f]{12} \(v1\)\n\+\+\+ translator@[0-9a-f]{12} \(v2\)$/m,
    );
    expect(diff.stdout).toMatch(/^-Translate to French: \{text\}$/m);
    expect(diff.stdout).toMatch(/^\+Translate to German: \{text\}$/m);
    expect((await cli('--json', 'prompts', 'diff', 'translator', '1', '1')).json()).toMatchObject({
      identical: true,
    });

    const moved = await cli(
      'prompts',
      'promote',
      'translator',
      '2',
      '--alias',
      'production',
      '--note',
      'cli',
    );
    expect(moved.stdout).toMatch(/^translator production -> version 2 [0-9a-f]{12} \(was —; move 1\)\n$/);
    const same = await cli('--json', 'prompts', 'promote', 'translator', '2', '--alias', 'production');
    expect(same.json()).toMatchObject({ alias: 'production', version: 2, moved: false });
    // Compare-and-set with a stale hash: the platform's 409, exit 1.
    const stale = await cli(
      'prompts',
      'promote',
      'translator',
      '1',
      '--alias',
      'production',
      '--expected',
      'none',
    );
    expect(stale.code).toBe(EXIT.refused);
    expect(stale.stderr).toMatch(
      /^llmops: promote translator@1 to production: .*\(alias_conflict, HTTP 409\)/,
    );
  });

  it('a platform error exits 1 with its code and message, as text or as JSON', async () => {
    const missing = await cli('prompts', 'get', 'nothing-here');
    expect(missing).toMatchObject({ code: EXIT.refused, stdout: '' });
    expect(missing.stderr).toMatch(
      /^llmops: get prompt nothing-here@latest: .+ \(prompt_not_found, HTTP 404\)\n {2}details: \{"name":"nothing-here"\}\n$/,
    );
    const json = await cli('--json', 'prompts', 'get', 'nothing-here');
    expect(json.code).toBe(EXIT.refused);
    expect(JSON.parse(json.stderr)).toMatchObject({ error: { code: 'prompt_not_found', status: 404 } });

    const refusedKey = await cli(
      '--api-key',
      'llmk_00000000000000000000_nope',
      'prompts',
      'get',
      'translator',
    );
    expect(refusedKey.code).toBe(EXIT.refused);
    expect(refusedKey.stderr).toContain('HTTP 401');
  });

  it('the process exits with the code and prints the message', () => {
    let failure: { status: number; stderr: string } | undefined;
    try {
      execFileSync(process.execPath, [LAUNCHER, 'prompts', 'get', 'nothing-here', '7'], {
        env: { PATH: process.env.PATH, ...env },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      failure = err as { status: number; stderr: string };
    }
    expect(failure?.status).toBe(EXIT.refused);
    expect(failure?.stderr).toMatch(/prompt_not_found, HTTP 404/);
  });
});

describe('experiments and datasets', () => {
  const experiment = {
    key: 'translator-test',
    arms: [
      { name: 'A', weight: 0.5, prompt: { name: 'translator', ref: '1' } },
      { name: 'B', weight: 0.5, prompt: { name: 'translator', ref: 'production' } },
    ],
  };

  it('create, start, pause and stop an experiment, and print its results', async () => {
    const created = await cli('experiments', 'create', file('experiment.json', JSON.stringify(experiment)));
    expect({ code: created.code, stderr: created.stderr }).toEqual({ code: EXIT.ok, stderr: '' });
    expect(created.stdout).toMatch(
      /^translator-test created \(draft\), control A, traffic 100%\n {2}A {2}weight 0\.5 {2}translator@1 [0-9a-f]{12}\n/,
    );
    expect((await cli('--json', 'experiments', 'start', 'translator-test')).json()).toMatchObject({
      status: 'running',
      phase: 1,
    });
    const results = await expectEventually(async () => {
      const r = await cli('experiments', 'results', 'translator-test', '--window', 'all');
      expect(r.code).toBe(EXIT.ok);
      return r;
    });
    expect(results.stdout).toMatch(/^translator-test, \S+ to \S+\n\n {2}arm +n +mean rating +95% CI/);
    expect(results.stdout).toContain('A (control)');
    expect(results.stdout).toContain('Verdict: Not enough data to compare ratings yet');
    expect((await cli('--json', 'experiments', 'results', 'translator-test')).json()).toMatchObject({
      experiment: 'translator-test',
      control: 'A',
    });
    expect((await cli('experiments', 'pause', 'translator-test')).stdout).toBe(
      'translator-test paused, phase 1\n',
    );
    expect((await cli('experiments', 'stop', 'translator-test')).stdout).toBe(
      'translator-test stopped, phase 1\n',
    );
    const exists = await cli('experiments', 'create', join(dir, 'experiment.json'));
    expect(exists.code).toBe(EXIT.refused);
    expect(exists.stderr).toContain('(experiment_exists, HTTP 409)');
  });

  it('create a dataset, snapshot it and download a split to a file or standard output', async () => {
    const dataset = file(
      'chat.yaml',
      'name: translator-chat\nformat: chat\nfilter: { prompt: { name: translator } }\n',
    );
    expect((await cli('datasets', 'create', dataset)).stdout).toBe('translator-chat created (chat)\n');
    const snapshot = await cli('datasets', 'snapshot', 'translator-chat');
    expect(snapshot.stdout).toMatch(/^translator-chat snapshot 1: 0 records \(.*\)\n {2}id [0-9a-f]{64}\n$/);
    const output = join(dir, 'chat.train.jsonl');
    const empty = await cli('--json', 'datasets', 'download', 'translator-chat', '1', '-o', output);
    expect(empty.json()).toEqual({
      file: output,
      lines: 0,
      snapshot: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(readFileSync(output, 'utf8')).toBe('');

    // Three generations of the prompt, logged with the SDK; the datasets service reads them from Kafka.
    const { hash } = (await api(stack, 'registry', 'GET', '/v1/prompts/translator/versions/1')).body as {
      hash: string;
    };
    const client = new LlmopsClient({ apiKey: stack.key.key, urls: { feedback: stack.urls.feedback } });
    for (const text of ['cat', 'dog', 'bird'])
      await client.generations.log({
        model: 'gpt-4o-mini',
        prompt: { name: 'translator', hash },
        input: `Translate to French: ${text}`,
        output: `le ${text}`,
        latencyMs: 120,
      });
    expect(await client.shutdown()).toEqual({ rejected: [] });
    const full = await expectEventually(
      async () => {
        const r = await cli('--json', 'datasets', 'snapshot', 'translator-chat');
        expect(r.json()).toMatchObject({ dataset: 'translator-chat', records: 3 });
        return r.json();
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    const unchanged = await cli('datasets', 'snapshot', 'translator-chat');
    expect(unchanged.stdout).toBe(
      `translator-chat snapshot ${String(full.sequence)}: 3 records (train 3), unchanged\n  id ${String(full.id)}\n`,
    );
    const saved = await cli('datasets', 'download', 'translator-chat', 'latest', '-o', output);
    expect(saved.stdout).toBe(`${output}: 3 lines of snapshot ${String(full.id)}\n`);
    const lines = readFileSync(output, 'utf8').trimEnd().split('\n');
    expect(
      lines
        .map((l) => (JSON.parse(l) as { messages: Array<{ content: string }> }).messages.at(-1)?.content)
        .sort(),
    ).toEqual(['le bird', 'le cat', 'le dog']);
    const stdout = await cli('datasets', 'download', 'translator-chat', '--split', 'train');
    expect(stdout).toMatchObject({ code: EXIT.ok, stdout: readFileSync(output, 'utf8') });
    const wrong = await cli('datasets', 'download', 'translator-chat', '--format', 'trl-dpo');
    expect(wrong.code).toBe(EXIT.refused);
    expect(wrong.stderr).toContain('HTTP 400');
    const none = await cli('datasets', 'snapshot', 'no-such-dataset');
    expect(none.stderr).toContain('(dataset_not_found, HTTP 404)');
  });
});
