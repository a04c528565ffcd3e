/**
 * The Python SDK (libs/sdk-python) against the real stack: registry, assignment and feedback run as
 * processes against the test's Kafka and MongoDB, a key is issued, and pytest runs
 * libs/sdk-python/tests from .ci/run's venv with the URLs and the key in its environment (prompt ids
 * equal to the registry's, local assignment equal to the server's, buffered ingestion). Every
 * generation and feedback the SDK reported as flushed is then found on Kafka exactly once by id.
 * The README's Python quick start runs against the same services.
 *
 * The outage tests (tests/test_stack_outage.py) run in a step of their own with a control URL this
 * spec serves: pytest asks it to stop the feedback or registry process and to start it again on the
 * same port, and each answer comes once that is done, so the test needs no waiting of its own.
 *
 * .ci/run installs the SDK into .local/venv; without it a developer run skips and says so, in CI
 * (CI=true) its absence is a failure.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOPICS, topicName } from '@llmops/contracts';
import { expectEventually, issueTestKey, readTopicToEnd, testInfra, type TopicRecord } from '@llmops/testing';
import { type ApiKey, apiKey, untilKeyKnown } from '../support/keys';
import {
  httpJson,
  type ServiceName,
  type ServiceProcess,
  startServiceProcess,
} from '../support/service-process';

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

/** pytest's report of what the SDK flushed: each id must be on its topic exactly once. */
async function expectOnKafkaOnce(
  brokers: string,
  prefix: string,
  ids: { generations: string[]; feedback: string[] },
): Promise<void> {
  for (const [topic, field, expected] of [
    [TOPICS.generations, 'requestId', ids.generations],
    [TOPICS.feedback, 'feedbackId', ids.feedback],
  ] as const) {
    const mine = new Set<string>(expected);
    const records = await readTopicToEnd(brokers, topicName(topic, prefix));
    const found = idsOf(records, field).filter((id) => mine.has(id));
    expect({ topic, count: found.length, distinct: new Set(found).size }).toEqual({
      topic,
      count: expected.length,
      distinct: expected.length,
    });
  }
}

type StackService = Extract<ServiceName, 'registry' | 'assignment' | 'feedback'>;

async function untilReady(s: ServiceProcess): Promise<void> {
  await expectEventually(async () => expect((await httpJson(`${s.url}/health/ready`)).status).toBe(200), {
    timeoutMs: 90_000,
    intervalMs: 500,
  }).catch((err: Error) => {
    err.message += `\n--- ${s.name} output ---\n${s.output().slice(-4000)}`;
    throw err;
  });
}

describe('Python SDK against the real services', () => {
  const infra = testInfra();
  const services = new Map<StackService, ServiceProcess>();
  const envs = {} as Record<StackService, Record<string, string>>;
  const dir = mkdtempSync(join(tmpdir(), 'sdk-python-'));
  let env: Record<string, string>;
  let key: ApiKey;

  /** Starts `name` (on `port` when given, so a restart keeps its URL) and waits until it is ready. */
  async function start(name: StackService, port?: number): Promise<ServiceProcess> {
    const s = await startServiceProcess(name, envs[name], 'source', port);
    services.set(name, s);
    await untilReady(s);
    return s;
  }

  /**
   * `stop`: SIGTERM to the process (as an orchestrator stops it), resolved once it has exited.
   * `start`: a new process on the same port, resolved once it is ready and knows the key.
   */
  async function serviceControl(name: StackService, action: 'stop' | 'start'): Promise<void> {
    const s = services.get(name)!;
    await s.stop();
    if (action === 'start') await untilKeyKnown([await start(name, s.port)], key);
  }

  beforeAll(async () => {
    if (!installed) return;
    const common = {
      KAFKA_BROKERS: infra.kafkaBrokers,
      KAFKA_TOPIC_PREFIX: infra.topicPrefix,
      MONGODB_URI: infra.mongoBaseUri,
      ...NO_LIMITS,
    };
    envs.registry = { ...common, MONGODB_DB: `${infra.dbName}_registry` };
    envs.feedback = { ...common, MONGODB_DB: `${infra.dbName}_feedback` };
    const registry = await start('registry');
    envs.assignment = { ...common, MONGODB_DB: `${infra.dbName}_assignment`, REGISTRY_URL: registry.url };
    await Promise.all([start('assignment'), start('feedback')]);
    const issued = await issueTestKey(infra);
    key = apiKey(issued.key, issued.project);
    await untilKeyKnown(services.values(), key);
    const url = (name: StackService) => services.get(name)!.url;
    env = {
      LLMOPS_API_KEY: issued.key,
      LLMOPS_REGISTRY_URL: url('registry'),
      LLMOPS_ASSIGNMENT_URL: url('assignment'),
      LLMOPS_FEEDBACK_URL: url('feedback'),
    };
  }, 180_000);

  afterAll(async () => {
    await Promise.all([...services.values()].map((s) => s.stop('SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  });

  function failOnPytest(run: Run): void {
    if (run.code === 0) return;
    const logs = [...services.values()]
      .map((s) => `--- ${s.name} ---\n${s.output().slice(-2000)}`)
      .join('\n');
    throw new Error(`pytest exited with ${run.code}:\n${run.output}\n${logs}`);
  }

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
      failOnPytest(run);
      const ids = JSON.parse(readFileSync(report, 'utf8')) as { generations: string[]; feedback: string[] };
      expect(ids.generations).toHaveLength(500);
      await expectOnKafkaOnce(infra.kafkaBrokers, infra.topicPrefix, ids);
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
      const example = readmePythonExample();
      expect(example.trimEnd().split('\n').length).toBeLessThanOrEqual(10);
      const run = await runPython(['-c', example], env, 60_000);
      expect({ code: run.code, output: run.output }).toEqual({
        code: 0,
        output: expect.stringMatching(/^[0-9a-f]{12} [AB] /) as string,
      });
    },
    90_000,
  );

  withSdk(
    'outages: feedback items buffered across a restart are on Kafka exactly once; a registry outage serves cached prompts',
    async () => {
      // POST /services/<name>/stop|start, answered once the process has exited / is ready again.
      const control = createServer((req, res) => {
        const match = /^\/services\/(registry|feedback)\/(stop|start)$/.exec(req.url ?? '');
        if (req.method !== 'POST' || !match) {
          res.writeHead(404).end();
          return;
        }
        void serviceControl(match[1] as StackService, match[2] as 'stop' | 'start').then(
          () => res.writeHead(204).end(),
          (err: Error) => res.writeHead(500).end(err.message),
        );
      });
      await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
      const report = join(dir, 'outage-report.json');
      try {
        const run = await runPython(
          ['-m', 'pytest', 'libs/sdk-python/tests/test_stack_outage.py', '-q', '-rs'],
          {
            ...env,
            LLMOPS_SDK_STACK: '1',
            LLMOPS_SDK_REPORT: report,
            LLMOPS_SDK_CONTROL_URL: `http://127.0.0.1:${(control.address() as AddressInfo).port}`,
          },
          240_000,
        );
        failOnPytest(run);
        expect(run.output).toMatch(/\b2 passed\b/);
      } finally {
        control.close();
      }
      const ids = JSON.parse(readFileSync(report, 'utf8')) as { generations: string[]; feedback: string[] };
      expect(ids.generations).toHaveLength(1_100);
      await expectOnKafkaOnce(infra.kafkaBrokers, infra.topicPrefix, ids);
    },
    300_000,
  );
});
