/**
 * The Python SDK (libs/sdk-python) against the real stack: registry, assignment and feedback run as
 * processes against the test's Kafka and MongoDB, a key is issued, and pytest runs
 * libs/sdk-python/tests from .ci/run's venv with the URLs and the key in its environment (prompt ids
 * equal to the registry's, local assignment equal to the server's, buffered ingestion). Every
 * generation and feedback the SDK reported as flushed is then found on Kafka exactly once by id.
 * The README's Python quick start runs against the same services.
 *
 * .ci/run installs the SDK into .local/venv; without it a developer run skips and says so, in CI
 * (CI=true) its absence is a failure.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOPICS, topicName } from '@llmops/contracts';
import { expectEventually, issueTestKey, readTopicUntil, testInfra, type TopicRecord } from '@llmops/testing';
import { apiKey, untilKeyKnown } from '../support/keys';
import { httpJson, type ServiceProcess, startServiceProcess } from '../support/service-process';

const root = join(__dirname, '..', '..');
const python = join(root, '.local', 'venv', 'bin', 'python');
const NO_LIMIT = '1000000';
const NO_LIMITS = { RATE_LIMIT_ASSIGN: NO_LIMIT, RATE_LIMIT_INGEST: NO_LIMIT, RATE_LIMIT_WRITE: NO_LIMIT };

const installed = spawnSync(python, ['-c', 'import llmops_client, pytest'], { cwd: root }).status === 0;
const withSdk = installed ? it : it.skip;
if (!installed && process.env.CI !== 'true') {
  console.warn(
    'llmops_client or pytest not installed in .local/venv: skipping the Python SDK tests. ' +
      "Install them with: .local/venv/bin/pip install -e 'libs/sdk-python[test]'",
  );
}

interface Run {
  code: number | null;
  output: string;
}

function runPython(args: string[], env: Record<string, string>, timeoutMs: number): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(python, args, { cwd: root, env: { ...process.env, ...env } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** The first ```python block of the README's "Python SDK" quick start. */
function readmePythonExample(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Python SDK'));
  const match = /```python\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error('README.md: no ```python block under "### Python SDK"');
  return match[1];
}

function idsOf(records: TopicRecord[], field: 'requestId' | 'feedbackId'): string[] {
  return records.map((r) => (JSON.parse(r.value) as { data: Record<string, string> }).data[field]);
}

describe('Python SDK against the real services', () => {
  const infra = testInfra();
  const services: ServiceProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'sdk-python-'));
  let env: Record<string, string>;

  beforeAll(async () => {
    if (!installed) return;
    const common = {
      KAFKA_BROKERS: infra.kafkaBrokers,
      KAFKA_TOPIC_PREFIX: infra.topicPrefix,
      MONGODB_URI: infra.mongoBaseUri,
      ...NO_LIMITS,
    };
    const registry = await startServiceProcess('registry', {
      ...common,
      MONGODB_DB: `${infra.dbName}_registry`,
    });
    services.push(registry);
    services.push(
      ...(await Promise.all([
        startServiceProcess('assignment', {
          ...common,
          MONGODB_DB: `${infra.dbName}_assignment`,
          REGISTRY_URL: registry.url,
        }),
        startServiceProcess('feedback', { ...common, MONGODB_DB: `${infra.dbName}_feedback` }),
      ])),
    );
    for (const s of services) {
      await expectEventually(async () => expect((await httpJson(`${s.url}/health/ready`)).status).toBe(200), {
        timeoutMs: 90_000,
        intervalMs: 500,
      }).catch((err: Error) => {
        err.message += `\n--- ${s.name} output ---\n${s.output().slice(-4000)}`;
        throw err;
      });
    }
    const issued = await issueTestKey(infra);
    await untilKeyKnown(services, apiKey(issued.key, issued.project));
    const url = (name: string) => services.find((s) => s.name === name)!.url;
    env = {
      LLMOPS_API_KEY: issued.key,
      LLMOPS_REGISTRY_URL: url('registry'),
      LLMOPS_ASSIGNMENT_URL: url('assignment'),
      LLMOPS_FEEDBACK_URL: url('feedback'),
    };
  }, 180_000);

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop('SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  });

  it('has the SDK installed in CI', () => {
    if (process.env.CI === 'true') expect(installed).toBe(true);
  });

  withSdk(
    'pytest passes against the stack, and every item the SDK flushed is on Kafka exactly once',
    async () => {
      const report = join(dir, 'report.json');
      const run = await runPython(
        ['-m', 'pytest', 'libs/sdk-python/tests', '-q', '-rs', '--durations=5'],
        { ...env, LLMOPS_SDK_STACK: '1', LLMOPS_SDK_REPORT: report, LLMOPS_SDK_ITEMS: '500' },
        200_000,
      );
      if (run.code !== 0) {
        const logs = services.map((s) => `--- ${s.name} ---\n${s.output().slice(-2000)}`).join('\n');
        throw new Error(`pytest exited with ${run.code}:\n${run.output}\n${logs}`);
      }
      const ids = JSON.parse(readFileSync(report, 'utf8')) as { generations: string[]; feedback: string[] };
      expect(ids.generations).toHaveLength(500);
      for (const [topic, field, expected] of [
        [TOPICS.generations, 'requestId', ids.generations],
        [TOPICS.feedback, 'feedbackId', ids.feedback],
      ] as const) {
        const records = await readTopicUntil(
          infra.kafkaBrokers,
          topicName(topic, infra.topicPrefix),
          (rs) => new Set(idsOf(rs, field)).size >= expected.length,
        );
        const mine = new Set<string>(expected);
        const found = idsOf(records, field).filter((id) => mine.has(id));
        expect({ topic, count: found.length, distinct: new Set(found).size }).toEqual({
          topic,
          count: expected.length,
          distinct: expected.length,
        });
      }
    },
    260_000,
  );

  withSdk(
    "the README's Python quick start runs",
    async () => {
      // What the reader has from the assignment service's quick start: experiment summarizer-prompt.
      const call = async (url: string, body: unknown, status: number) => {
        const res = await httpJson(url, {
          method: 'POST',
          headers: { authorization: `Bearer ${env.LLMOPS_API_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        expect({ url, status: res.status, body: res.body }).toEqual({ url, status, body: expect.anything() });
      };
      for (const template of [
        'Summarize the following text:\n{text}',
        'Write a 2-sentence summary:\n{text}',
      ]) {
        await call(
          `${env.LLMOPS_REGISTRY_URL}/v1/prompts/summarizer/versions`,
          { spec: { template, model: 'gpt-4o-mini' } },
          201,
        );
      }
      const arm = (name: string, ref: string) => ({ name, weight: 0.5, prompt: { name: 'summarizer', ref } });
      await call(
        `${env.LLMOPS_ASSIGNMENT_URL}/v1/experiments`,
        {
          key: 'summarizer-prompt',
          arms: [arm('A', '1'), arm('B', '2')],
          targeting: [{ attribute: 'country', op: 'in', values: ['DE', 'FR', 'US'] }],
        },
        201,
      );
      await call(`${env.LLMOPS_ASSIGNMENT_URL}/v1/experiments/summarizer-prompt/start`, {}, 200);
      const run = await runPython(['-c', readmePythonExample()], env, 60_000);
      expect({ code: run.code, output: run.output }).toEqual({
        code: 0,
        output: expect.stringMatching(/^[0-9a-f]{12} [AB] /) as string,
      });
    },
    90_000,
  );
});
