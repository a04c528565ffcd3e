import { expectEventually } from '@llmops/testing';
import { LlmopsClient } from './client';

/** An experiment snapshot as GET /v1/experiments/snapshots serves it. */
function experiment(overrides: Record<string, unknown> = {}) {
  return {
    key: 'exp',
    description: '',
    status: 'running',
    phase: 1,
    seed: 'exp-seed',
    hashVersion: 1,
    trafficAllocation: 1,
    control: 'A',
    arms: [
      { name: 'A', weight: 0.5, prompt: { name: 'p', ref: '1', hash: 'a'.repeat(64) } },
      { name: 'B', weight: 0.5, prompt: { name: 'p', ref: '2', hash: 'b'.repeat(64) } },
    ],
    revision: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

/**
 * An assignment service: the snapshot route (the first request answers at once, a long poll waits
 * for `change`) and the exposures route, which records what it gets.
 */
function fakeAssignment(experiments: unknown[]) {
  let version = 1;
  let current = experiments;
  const waiting: Array<() => void> = [];
  const exposures: Array<{ experiment: string; userId: string; arm: string; phase: number }> = [];
  const json = (body: unknown, status = 200) =>
    new Response(JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json', etag: `"${version}"` },
    });
  const fetch = async (input: Request | string | URL, init?: RequestInit): Promise<Response> => {
    const request = input instanceof Request ? input : new Request(input, init);
    const path = new URL(request.url).pathname;
    if (path === '/v1/experiments/snapshots') {
      if (request.headers.get('if-none-match') === `"${version}"`) {
        await new Promise<void>((resolve) => {
          waiting.push(resolve);
          request.signal.addEventListener('abort', () => resolve());
        });
        if (request.signal.aborted) throw new DOMException('aborted', 'AbortError');
      }
      return json({ project: 'default', version: String(version), experiments: current });
    }
    if (path === '/v1/exposures') {
      const { items } = (await request.json()) as { items: typeof exposures };
      exposures.push(...items);
      return json({ items: items.map(() => ({ status: 'accepted' })) }, 202);
    }
    return json({ error: { code: 'not_found', message: path } }, 404);
  };
  const change = (next: unknown[]) => {
    version++;
    current = next;
    for (const wake of waiting.splice(0)) wake();
  };
  return { fetch: fetch as typeof globalThis.fetch, exposures, change };
}

const clients: LlmopsClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.shutdown()));
});

function clientOf(fake: ReturnType<typeof fakeAssignment>): LlmopsClient {
  const c = new LlmopsClient({
    apiKey: 'k',
    urls: { assignment: 'http://assignment.test' },
    fetch: fake.fetch,
  });
  clients.push(c);
  return c;
}

const users = Array.from({ length: 50 }, (_, i) => `user-${i}`);

it('answers a returning user as at first sight, and exposes each user once per phase and arm', async () => {
  const fake = fakeAssignment([experiment()]);
  const client = clientOf(fake);
  expect(await client.experiments.ready()).toBe(true);
  const first = await Promise.all(users.map((u) => client.experiments.assign('exp', u)));
  for (let i = 0; i < 3; i++)
    expect(await Promise.all(users.map((u) => client.experiments.assign('exp', u)))).toEqual(first);
  expect(first.every((a) => a.source === 'local' && a.reason === 'hash')).toBe(true);
  expect(await client.flush()).toEqual({ rejected: [] });
  expect(fake.exposures.map((e) => e.userId).sort()).toEqual([...users].sort());

  // A new phase (a new snapshot) is a new exposure; the answers carry the new phase.
  fake.change([experiment({ phase: 2, revision: 2 })]);
  await expectEventually(async () =>
    expect((await client.experiments.assign('exp', 'user-0')).phase).toBe(2),
  );
  const second = await Promise.all(users.map((u) => client.experiments.assign('exp', u)));
  expect(second.map((a) => a.arm)).toEqual(first.map((a) => a.arm));
  expect(await client.flush()).toEqual({ rejected: [] });
  expect(
    fake.exposures
      .filter((e) => e.phase === 2)
      .map((e) => e.userId)
      .sort(),
  ).toEqual([...users].sort());

  // Paused: everyone gets the control arm, not in the experiment, and no exposure.
  fake.change([experiment({ phase: 2, revision: 3, status: 'paused' })]);
  await expectEventually(async () =>
    expect((await client.experiments.assign('exp', 'user-0')).reason).toBe('not-running'),
  );
  const paused = await Promise.all(users.map((u) => client.experiments.assign('exp', u)));
  expect(paused.every((a) => a.arm === 'A' && !a.inExperiment)).toBe(true);
  expect(await client.flush()).toEqual({ rejected: [] });
  expect(fake.exposures).toHaveLength(2 * users.length);
});

it('answers a targeting experiment by the attributes of each call, not by what it answered before', async () => {
  const fake = fakeAssignment([
    experiment({ targeting: [{ attribute: 'country', op: 'in', values: ['DE'] }] }),
  ]);
  const client = clientOf(fake);
  expect(await client.experiments.ready()).toBe(true);
  for (const u of users) {
    expect((await client.experiments.assign('exp', u, { country: 'DE' })).reason).toBe('hash');
    expect((await client.experiments.assign('exp', u, { country: 'FR' })).reason).toBe('targeting');
    expect((await client.experiments.assign('exp', u, { country: 'DE' })).reason).toBe('hash');
  }
  expect(await client.flush()).toEqual({ rejected: [] });
  // Out of targeting and back: the same phase and arm is not sent again.
  expect(fake.exposures.map((e) => e.userId).sort()).toEqual([...users].sort());
});
