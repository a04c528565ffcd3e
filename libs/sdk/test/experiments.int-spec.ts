/**
 * Experiments through the SDK against real registry and assignment processes: the parity
 * fixture's experiments (libs/experiments/fixtures/parity) created through the API, then
 * `client.experiments.assign` (local, on the long-polled snapshots) equals POST /v1/assign/batch
 * for all 100,000 fixture users of every experiment; remote assignment before the first snapshot;
 * local exposures on the exposures topic; a change seen through the long poll.
 */
import { TOPICS, topicName } from '@llmops/contracts';
import {
  createParityExperiments,
  expectEventually,
  parityAttributes as attributesOf,
  parityFixture as fixture,
  parityUsers,
  readTopicUntil,
} from '@llmops/testing';
import { type AssignResponse, LlmopsClient } from '../src';
import { api, type Stack, startStack } from './support/stack';

/** Every field of an answer in a fixed order, `source` left out. */
const answer = (r: AssignResponse): string =>
  JSON.stringify([r.experiment, r.arm, r.prompt.name, r.prompt.hash, r.inExperiment, r.reason, r.phase]);

let stack: Stack;
const clients: LlmopsClient[] = [];
function client(options: ConstructorParameters<typeof LlmopsClient>[0] = {}): LlmopsClient {
  const c = new LlmopsClient({
    apiKey: stack.key.key,
    urls: { registry: stack.urls.registry, assignment: stack.urls.assignment },
    ...options,
  });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  stack = await startStack(['registry', 'assignment']);
  for (const p of fixture.prompts) {
    expect(
      (await api(stack, 'registry', 'POST', `/v1/prompts/${p.name}/versions`, { spec: p.spec })).status,
    ).toBe(201);
  }
  await createParityExperiments((method, path, body) => api(stack, 'assignment', method, path, body));
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.shutdown().catch(() => undefined)));
  await stack?.close();
});

it('assigns remotely until the first snapshot arrives, then locally', async () => {
  const c = client();
  const first = await c.experiments.assign('parity-halves', 'user-1');
  expect(first.source).toBe('remote');
  expect(await c.experiments.ready()).toBe(true);
  const local = await c.experiments.assign('parity-halves', 'user-1');
  expect(local.source).toBe('local');
  expect(answer(local)).toBe(answer(first));
});

it('assigns locally exactly what POST /v1/assign/batch answers, for all 100,000 users of every experiment', async () => {
  // Exposures of this many users are not the point here: a small buffer drops most of them.
  const c = client({ buffer: { maxItems: 1_000, maxBatch: 1_000 } });
  expect(await c.experiments.ready()).toBe(true);
  const BATCH = 1_000;
  const mismatches: string[] = [];
  let compared = 0;
  const jobs: Array<{ key: string; targeted: boolean; from: number }> = [];
  for (const e of fixture.experiments)
    for (let from = 0; from < fixture.users.count; from += BATCH)
      jobs.push({ key: e.key, targeted: e.targeting !== undefined, from });
  const run = async (): Promise<void> => {
    for (let job = jobs.shift(); job; job = jobs.shift()) {
      const users = parityUsers(job.from, BATCH);
      const targeted = job.targeted;
      const res = await api(stack, 'assignment', 'POST', '/v1/assign/batch', {
        items: users.map((u) =>
          targeted ? { experiment: job.key, ...u } : { experiment: job.key, userId: u.userId },
        ),
      });
      expect(res.status).toBe(200);
      const remote = (res.body as { items: AssignResponse[] }).items;
      for (const [i, u] of users.entries()) {
        const mine = await c.experiments.assign(job.key, u.userId, targeted ? u.attributes : undefined);
        compared++;
        if ((mine.source !== 'local' || answer(mine) !== answer(remote[i])) && mismatches.length < 20)
          mismatches.push(`${u.userId}: server ${JSON.stringify(remote[i])} sdk ${JSON.stringify(mine)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 4 }, run));
  expect(mismatches).toEqual([]);
  expect(compared).toBe(fixture.users.count * fixture.experiments.length);
}, 600_000);

it('sends local exposures in batches (with attributes where the experiment targets); they are on the exposures topic keyed experiment:userId', async () => {
  const c = client();
  expect(await c.experiments.ready()).toBe(true);
  const users = Array.from({ length: 50 }, (_, i) => `exposed-${i}`);
  for (const u of users) expect((await c.experiments.assign('parity-halves', u)).inExperiment).toBe(true);
  const keys = users.map((u) => `parity-halves:${u}`);
  // A targeted experiment: the exposure carries the attributes the service checks it with.
  for (let i = 0; i < 200; i++) {
    const a = await c.experiments.assign('parity-targeted', `user-${i}`, attributesOf(i));
    if (a.inExperiment) keys.push(`parity-targeted:user-${i}`);
  }
  expect(keys.length).toBeGreaterThan(users.length);
  expect(await c.flush()).toEqual({ rejected: [] });
  const records = await readTopicUntil(
    stack.infra.kafkaBrokers,
    topicName(TOPICS.exposures, stack.infra.topicPrefix),
    (r) => keys.every((k) => r.some((x) => x.key === k)),
    60_000,
  );
  expect(keys.filter((k) => !records.some((r) => r.key === k))).toEqual([]);
});

it('sees a change of an experiment through the long poll', async () => {
  const c = client();
  expect(await c.experiments.ready()).toBe(true);
  expect((await c.experiments.assign('parity-beta', 'user-7', attributesOf(7))).reason).not.toBe(
    'not-running',
  );
  expect((await api(stack, 'assignment', 'POST', '/v1/experiments/parity-beta/pause')).status).toBe(200);
  const paused = Date.now();
  await expectEventually(
    async () =>
      expect((await c.experiments.assign('parity-beta', 'user-7', attributesOf(7))).reason).toBe(
        'not-running',
      ),
    { timeoutMs: 10_000, intervalMs: 20 },
  );
  expect(Date.now() - paused).toBeLessThan(5_000);
});
