import type { ExperimentSnapshot } from '@llmops/contracts';
import { type AssignResponse, CompiledExperiment } from '@llmops/experiments';
import { mulberry32 } from '@llmops/stats';
import { expectEventually } from '@llmops/testing';
import createClient from 'openapi-fetch';
import { httpOptions, LlmopsClient } from './client';
import { LlmopsError, LlmopsHttpError, LlmopsUnavailableError } from './errors';
import {
  ExperimentsClient,
  type ExposureItem,
  exposureSender,
  exposuresJson,
  LocalExperiment,
  QueuedExposure,
  type SnapshotPoller,
} from './experiments';
import type { paths as AssignmentPaths } from './generated/assignment';
import type { IngestionQueue } from './ingestion-queue';
import { Transport } from './transport';

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
  /** Each exposure batch as fetch received it (a URL and init made into the Request fetch makes of them). */
  const requests: Request[] = [];
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
      requests.push(request.clone());
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
  return { fetch: fetch as typeof globalThis.fetch, exposures, requests, change };
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

it('refuses attributes POST /v1/assign refuses, before answering or queuing an exposure', async () => {
  const fake = fakeAssignment([
    experiment({ targeting: [{ attribute: 'country', op: 'in', values: ['DE'] }] }),
  ]);
  const client = clientOf(fake);
  expect(await client.experiments.ready()).toBe(true);
  const many = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`a${i}`, i]));
  const bads: Array<Record<string, string | number>> = [
    { ['n'.repeat(129)]: 'x' },
    { country: 'x'.repeat(1025) },
    { country: 'DE', ...many },
    { 'bad\u0001name': 'x' },
    { country: 'lone \ud800' },
  ];
  for (const bad of bads)
    await expect(client.experiments.assign('exp', 'u', bad)).rejects.toMatchObject({
      code: 'validation_failed',
    });
  // The bounds themselves are fine: 100 attributes, a name of 128 and a value of 1,024 characters.
  const ok = {
    ...Object.fromEntries(Object.entries(many).slice(0, 98)),
    country: 'DE',
    ['n'.repeat(128)]: 'x'.repeat(1024),
  };
  expect(Object.keys(ok)).toHaveLength(100);
  expect((await client.experiments.assign('exp', 'u', ok)).reason).toBe('hash');
  expect(await client.flush()).toEqual({ rejected: [] });
  expect(fake.exposures).toHaveLength(1);
});

it('forgets an exposure the platform rejected, so the next assign of that user sends it again', async () => {
  const fake = fakeAssignment([experiment()]);
  let rejectNext = true;
  const fetch = (async (input: Request | string | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(input, init);
    if (new URL(request.url).pathname === '/v1/exposures' && rejectNext) {
      rejectNext = false;
      const { items } = (await request.json()) as { items: unknown[] };
      const error = { code: 'experiment_not_found', message: 'no experiment exp' };
      return new Response(JSON.stringify({ items: items.map(() => ({ status: 'rejected', error })) }), {
        status: 202,
        headers: { 'content-type': 'application/json' },
      });
    }
    return fake.fetch(request);
  }) as typeof globalThis.fetch;
  const client = clientOf({ ...fake, fetch });
  expect(await client.experiments.ready()).toBe(true);
  await Promise.all(users.map((u) => client.experiments.assign('exp', u)));
  expect((await client.flush()).rejected).toHaveLength(users.length);
  expect(fake.exposures).toHaveLength(0);
  // Returning users: their exposures are queued again and accepted this time, once each.
  await Promise.all(users.map((u) => client.experiments.assign('exp', u)));
  await Promise.all(users.map((u) => client.experiments.assign('exp', u)));
  expect(await client.flush()).toEqual({ rejected: [] });
  expect(fake.exposures.map((e) => e.userId).sort()).toEqual([...users].sort());
});

it('forgets an exposure dropped by drop-oldest, so the user is exposed again on the next assign', async () => {
  const fake = fakeAssignment([experiment()]);
  // The exposures route waits until opened: the buffer (maxItems 2) fills and drops.
  let open = false;
  const waiting: Array<() => void> = [];
  const fetch = (async (input: Request | string | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(input, init);
    if (new URL(request.url).pathname === '/v1/exposures' && !open)
      await new Promise<void>((resolve) => waiting.push(resolve));
    return fake.fetch(request);
  }) as typeof globalThis.fetch;
  const client = new LlmopsClient({
    apiKey: 'k',
    urls: { assignment: 'http://assignment.test' },
    fetch,
    buffer: { maxItems: 2, maxBatch: 1, flushIntervalMs: 60_000 },
  });
  clients.push(client);
  expect(await client.experiments.ready()).toBe(true);
  // user-0 and user-1 go in flight (two batches of one); user-2's and user-3's are dropped.
  for (const u of users.slice(0, 4)) await client.experiments.assign('exp', u);
  expect(client.metrics().dropped).toBe(2);
  await expectEventually(() => expect(waiting).toHaveLength(2));
  open = true;
  waiting.forEach((resolve) => resolve());
  expect(await client.flush()).toEqual({ rejected: [] });
  expect(fake.exposures.map((e) => e.userId)).toEqual(['user-0', 'user-1']);
  for (const u of users.slice(0, 4)) await client.experiments.assign('exp', u);
  expect(await client.flush()).toEqual({ rejected: [] });
  expect(fake.exposures.map((e) => e.userId).sort()).toEqual(users.slice(0, 4));
});

it('keeps a hot working set remembered while more users than a generation pass through', async () => {
  const snapshot = experiment() as unknown as ExperimentSnapshot;
  const local = new LocalExperiment(new CompiledExperiment('default', snapshot));
  const poller = { start: () => undefined, get: () => local } as unknown as SnapshotPoller;
  const queued: QueuedExposure[] = [];
  const queue = {
    offer: (e: QueuedExposure) => (queued.push(e), true),
  } as unknown as IngestionQueue<QueuedExposure>;
  const perGeneration = 100;
  const experiments = new ExperimentsClient(poller, {} as never, {} as never, queue, perGeneration);
  const hot = Array.from({ length: 20 }, (_, i) => `hot-${i}`);
  // 10 generations' worth of one-time users, the hot users coming back in between.
  for (let i = 0; i < 10 * perGeneration; i++) {
    await experiments.assign('exp', `cold-${i}`);
    await experiments.assign('exp', hot[i % hot.length]);
  }
  // Each hot user was exposed once: never forgotten, never exposed again.
  expect(
    queued
      .filter((e) => e.userId.startsWith('hot-'))
      .map((e) => e.userId)
      .sort(),
  ).toEqual([...hot].sort());
  expect(queued.filter((e) => e.userId.startsWith('cold-'))).toHaveLength(10 * perGeneration);
});

it('waits as long as a snapshot 503 (too_many_waiters) asks in Retry-After before polling again', async () => {
  const fake = fakeAssignment([experiment()]);
  const polls: number[] = [];
  const fetch = (async (input: Request | string | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(input, init);
    if (new URL(request.url).pathname === '/v1/experiments/snapshots') {
      polls.push(Date.now());
      if (polls.length === 2)
        return new Response(
          JSON.stringify({ error: { code: 'too_many_waiters', message: 'too many waiting requests' } }),
          { status: 503, headers: { 'content-type': 'application/json', 'retry-after': '1' } },
        );
    }
    return fake.fetch(request);
  }) as typeof globalThis.fetch;
  const client = new LlmopsClient({
    apiKey: 'k',
    urls: { assignment: 'http://assignment.test' },
    fetch,
    retry: { baseDelayMs: 1, maxDelayMs: 10 },
  });
  clients.push(client);
  expect(await client.experiments.ready()).toBe(true);
  await expectEventually(() => expect(polls.length).toBeGreaterThanOrEqual(3), { timeoutMs: 5_000 });
  expect(polls[2] - polls[1]).toBeGreaterThanOrEqual(990);
});

it('writes each queued exposure as the JSON item POST /v1/exposures takes, attributes included', () => {
  const targeted = new LocalExperiment(
    new CompiledExperiment(
      'default',
      experiment({
        targeting: [{ attribute: 'country', op: 'in', values: ['DE'] }],
      }) as unknown as ExperimentSnapshot,
    ),
  );
  const ids = ['plain', 'quote"back\\slash', 'ünï:cödé', '用户', '😀', 'tab\tnewline\n'];
  const attributes = { country: 'DE', 'odd "name"': 'ü\u2028', n: 1.5, beta: true };
  const queued = ids.map((u) => {
    const outcome = targeted.assign(u, attributes);
    return new QueuedExposure(outcome, u, '2026-12-06T20:00:00.000Z', { ...attributes });
  });
  expect(JSON.parse(exposuresJson(queued))).toEqual({
    items: queued.map((q) => ({
      experiment: 'exp',
      userId: q.userId,
      arm: q.outcome.response.arm,
      phase: 1,
      assignedAt: '2026-12-06T20:00:00.000Z',
      attributes,
    })),
  });
  expect(new Set(queued.map((q) => q.outcome.response.arm))).toEqual(new Set(['A', 'B']));
  expect(JSON.parse(exposuresJson([]))).toEqual({ items: [] });
});

it('writes exactly the text JSON.stringify writes for the same items, on random user ids and attributes', () => {
  const random = mulberry32(20261206);
  const pick = (n: number) => Math.floor(random() * n);
  // Code points from every class JSON treats differently: controls, quotes and backslashes, ASCII,
  // Latin-1, line separators, BMP and astral (surrogate pairs). Lone surrogates never reach the
  // queue: user ids and attributes holding one are refused before assignment.
  const alphabet = [0, 0x1f, 0x22, 0x5c, 0x41, 0x7f, 0xe9, 0x2028, 0x4e2d, 0x1f600];
  const text = (max: number) =>
    Array.from({ length: 1 + pick(max) }, () =>
      String.fromCodePoint(alphabet[pick(alphabet.length)] + (random() < 0.5 ? 0 : pick(3))),
    ).join('');
  const targeted = new LocalExperiment(
    new CompiledExperiment('default', experiment({ targeting: [] }) as unknown as ExperimentSnapshot),
  );
  const queued = Array.from({ length: 500 }, () => {
    const attributes =
      random() < 0.5
        ? undefined
        : Object.fromEntries(
            Array.from({ length: pick(4) }, () => [
              text(6),
              [text(8), random() * 1e6 - 5e5, random() < 0.5][pick(3)],
            ]),
          );
    const userId = text(12);
    return new QueuedExposure(
      targeted.assign(userId, attributes),
      userId,
      new Date(pick(2e12)).toISOString(),
      attributes,
    );
  });
  // The standard item, built as an object and serialized by JSON.stringify, in the field order the
  // service's document gives.
  const standard = JSON.stringify({
    items: queued.map((q): ExposureItem => ({
      experiment: q.outcome.response.experiment,
      arm: q.outcome.response.arm,
      phase: q.outcome.response.phase,
      userId: q.userId,
      assignedAt: q.assignedAt,
      ...(q.attributes !== undefined && { attributes: q.attributes }),
    })),
  });
  expect(exposuresJson(queued)).toBe(standard);
});

/** Everything a request carries but its body and signal, to compare two requests. */
function requestParts(request: Request) {
  const { method, url, redirect, credentials, mode, cache, keepalive, integrity, referrer, referrerPolicy } =
    request;
  // Headers iterate sorted by lower-cased name, joining repeated values.
  const headers = [...request.headers];
  return {
    method,
    url,
    headers,
    redirect,
    credentials,
    mode,
    cache,
    keepalive,
    integrity,
    referrer,
    referrerPolicy,
  };
}

it('sends an exposure batch exactly as openapi-fetch sends the same batch to POST /v1/exposures', async () => {
  const fake = fakeAssignment([
    experiment({ targeting: [{ attribute: 'country', op: 'in', values: ['DE'] }] }),
  ]);
  // The forms the client calls its fetch in: a Request (openapi-fetch), or a URL and init (exposures).
  const forms = new Set<string>();
  const client = new LlmopsClient({
    apiKey: 'k',
    urls: { assignment: 'http://assignment.test/' },
    fetch: (input, init) => {
      forms.add(input instanceof Request && init === undefined ? 'Request' : `${typeof input}, init`);
      return fake.fetch(input, init);
    },
  });
  clients.push(client);
  expect(await client.experiments.ready()).toBe(true);
  const ids = ['plain', 'quote"back\\slash', '用户', '😀'];
  const attributes = { country: 'DE', 'odd "name"': 'ü\u2028', n: 1.5, beta: true };
  const before = Date.now();
  const answers: AssignResponse[] = [];
  for (const u of ids) answers.push(await client.experiments.assign('exp', u, attributes));
  expect(await client.flush()).toEqual({ rejected: [] });
  expect(fake.requests).toHaveLength(1);
  expect([...forms].sort()).toEqual(['Request', 'string, init']);
  const [fast] = fake.requests;
  const sent = (await fast.clone().json()) as { items: ExposureItem[] };

  // The same batch, typed by the generated document, through openapi-fetch's POST on a client made
  // as LlmopsClient makes its own (its fetch replaced by one that keeps the request).
  const body: AssignmentPaths['/v1/exposures']['post']['requestBody']['content']['application/json'] = {
    items: answers.map((a, i) => ({
      experiment: a.experiment,
      arm: a.arm,
      phase: a.phase,
      userId: ids[i],
      assignedAt: sent.items[i].assignedAt,
      attributes,
    })),
  };
  const seen: Request[] = [];
  const openapi = createClient<AssignmentPaths>({
    ...httpOptions(client.options),
    baseUrl: client.options.urls.assignment,
    fetch: async (request: Request) => {
      seen.push(request);
      return new Response(JSON.stringify({ items: body.items.map(() => ({ status: 'accepted' })) }), {
        status: 202,
      });
    },
  });
  expect((await openapi.POST('/v1/exposures', { body })).response.status).toBe(202);
  const [reference] = seen;

  expect(requestParts(fast)).toEqual(requestParts(reference));
  const [fastBody, referenceBody] = [await fast.text(), await reference.text()];
  expect(JSON.parse(fastBody)).toEqual(JSON.parse(referenceBody));
  // openapi-fetch writes a JSON body with JSON.stringify, so the same batch is the same bytes.
  expect(referenceBody).toBe(JSON.stringify(body));
  expect(fastBody).toBe(referenceBody);

  expect(fast.method).toBe('POST');
  expect(fast.url).toBe('http://assignment.test/v1/exposures');
  expect(fast.headers.get('authorization')).toBe('Bearer k');
  expect(fast.headers.get('content-type')).toBe('application/json');
  for (const { assignedAt } of sent.items) {
    const at = Date.parse(assignedAt ?? '');
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(Date.now());
  }
});

it('turns an error answer to an exposure batch into the error it is when openapi-fetch sends the batch', async () => {
  const local = new LocalExperiment(
    new CompiledExperiment('default', experiment() as unknown as ExperimentSnapshot),
  );
  const queued = ['u1', 'u2'].map(
    (u) => new QueuedExposure(local.assign(u, undefined), u, '2026-12-06T20:00:00.000Z', undefined),
  );
  const body = JSON.parse(exposuresJson(queued)) as { items: ExposureItem[] };
  const answers = [
    () =>
      new Response(JSON.stringify({ error: { code: 'unauthorized', message: 'bad key' } }), {
        status: 401,
        headers: { 'content-type': 'application/json', 'x-correlation-id': 'c-1' },
      }),
    () => new Response('upstream failed', { status: 500 }),
    () => new Response(null, { status: 400 }),
    () =>
      new Response(
        JSON.stringify({ error: { code: 'broker_unavailable', message: 'later', details: { n: 1 } } }),
        {
          status: 503,
          headers: { 'retry-after': '2' },
        },
      ),
  ];
  const parts = (e: unknown) => {
    const { name, message, code, status, details, correlationId, retryAfterMs } = e as LlmopsHttpError &
      LlmopsUnavailableError;
    return {
      type: (e as object).constructor,
      name,
      message,
      code,
      status,
      details,
      correlationId,
      retryAfterMs,
    };
  };
  const errors: unknown[] = [];
  for (const answer of answers) {
    const http = {
      ...httpOptions({ apiKey: 'k', fetch: async () => answer() }),
      baseUrl: 'http://assignment.test',
    };
    const transport = new Transport({ maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 }, 1_000, { retried: 0 });
    const fast = await exposureSender(http, transport)(queued).catch((e: unknown) => e);
    const openapi = createClient<AssignmentPaths>(http);
    const reference = await transport
      .send('send exposures', (signal) => openapi.POST('/v1/exposures', { body, parseAs: 'text', signal }))
      .catch((e: unknown) => e);
    expect(fast).toBeInstanceOf(LlmopsError);
    expect(parts(fast)).toEqual(parts(reference));
    errors.push(fast);
  }
  expect(errors[0]).toBeInstanceOf(LlmopsHttpError);
  expect(errors[0]).toMatchObject({ code: 'unauthorized', status: 401, correlationId: 'c-1' });
  expect(errors[3]).toBeInstanceOf(LlmopsUnavailableError);
  expect(errors[3]).toMatchObject({ code: 'broker_unavailable', status: 503, retryAfterMs: 2_000 });
});
