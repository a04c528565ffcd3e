/**
 * Projects, API keys and the audit trail of the registry, against real Kafka and MongoDB: two
 * projects with the same prompt names and independent versions and aliases; another project's
 * prompt answers exactly what a missing one answers, on every route; 401 without a valid key, 403
 * for a key without the route's scope or for an alias its key may not move; and one audit record
 * per change, whose actor is the key id.
 */
import { KeyDirectory } from '@llmops/platform';
import { expectEventually, type IssuedTestKey, testInfra } from '@llmops/testing';
import { registryTopics } from '../src/outbox/registry-topics';
import { type RegistryTestApp, startRegistry } from './support/registry-app';
import { readAll, readTopic, type ReadRecord } from './support/topic-reader';

interface ErrorBody {
  error: { code: string; message: string };
}

const infra = testInfra();
let r: RegistryTestApp;
let teamA: IssuedTestKey;
let teamB: IssuedTestKey;
let empty: IssuedTestKey;

const S1 = { template: 'Summarize: {text}', model: 'gpt-4o-mini' };
const S2 = { template: 'Summarize briefly: {text}', model: 'gpt-4o-mini' };

const as = (key: IssuedTestKey) => key.header;

beforeAll(async () => {
  r = await startRegistry(infra);
  [teamA, teamB, empty] = await Promise.all([
    r.issueKey({ project: 'team-a', name: 'team a' }),
    r.issueKey({ project: 'team-b', name: 'team b' }),
    r.issueKey({ project: 'team-c', name: 'a project without prompts' }),
  ]);
}, 60_000);

afterAll(async () => {
  await r?.close();
});

describe('two projects', () => {
  it('have their own prompts of the same name: own version numbers, aliases and lists; one hash per spec', async () => {
    const a1 = await r.request<{ hash: string; version: number }>(
      'POST',
      '/v1/prompts/summarizer/versions',
      { spec: S1 },
      as(teamA),
    );
    const b1 = await r.request<{ hash: string; version: number }>(
      'POST',
      '/v1/prompts/summarizer/versions',
      { spec: S2 },
      as(teamB),
    );
    const b2 = await r.request<{ hash: string; version: number; created: boolean }>(
      'POST',
      '/v1/prompts/summarizer/versions',
      { spec: S1 },
      as(teamB),
    );
    expect([a1.status, a1.body.version, b1.status, b1.body.version]).toEqual([201, 1, 201, 1]);
    // The same spec is new in team-b (version 2 there), with the same hash: it depends on the spec only.
    expect([b2.status, b2.body.version, b2.body.created, b2.body.hash]).toEqual([201, 2, true, a1.body.hash]);

    expect(
      (await r.request('PUT', '/v1/prompts/summarizer/aliases/production', { ref: '1' }, as(teamA))).status,
    ).toBe(200);
    expect(
      (await r.request('PUT', '/v1/prompts/summarizer/aliases/production', { ref: '1' }, as(teamB))).status,
    ).toBe(200);
    const prodA = await r.request<{ hash: string }>(
      'GET',
      '/v1/prompts/summarizer/versions/production',
      undefined,
      as(teamA),
    );
    const prodB = await r.request<{ hash: string }>(
      'GET',
      '/v1/prompts/summarizer/versions/production',
      undefined,
      as(teamB),
    );
    expect([prodA.body.hash, prodB.body.hash]).toEqual([a1.body.hash, b1.body.hash]);
    const latestB = await r.request<{ version: number }>(
      'GET',
      '/v1/prompts/summarizer/latest',
      undefined,
      as(teamB),
    );
    expect(latestB.body.version).toBe(2);

    const list = async (key: IssuedTestKey) =>
      (
        await r.request<{ items: { name: string; latest: { version: number } }[] }>(
          'GET',
          '/v1/prompts',
          undefined,
          as(key),
        )
      ).body.items.map((p) => [p.name, p.latest.version]);
    await expect(list(teamA)).resolves.toEqual([['summarizer', 1]]);
    await expect(list(teamB)).resolves.toEqual([['summarizer', 2]]);
    await expect(list(empty)).resolves.toEqual([]);
    // The default project (the test app's own key) sees neither.
    expect((await r.request('GET', '/v1/prompts/summarizer/versions')).status).toBe(404);
  });

  it('another project answers exactly what a missing prompt answers, on every route, cache warm or not', async () => {
    const reg = await r.request<{ hash: string; shortHash: string }>(
      'POST',
      '/v1/prompts/only-a/versions',
      { spec: S1 },
      as(teamA),
    );
    expect(reg.status).toBe(201);
    expect(
      (await r.request('PUT', '/v1/prompts/only-a/aliases/production', { ref: '1' }, as(teamA))).status,
    ).toBe(200);
    const routes: Array<['GET' | 'POST' | 'PUT', string, unknown?]> = [
      ['GET', '/v1/prompts/only-a/versions'],
      ['GET', '/v1/prompts/only-a/versions/1'],
      ['GET', `/v1/prompts/only-a/versions/${reg.body.hash}`],
      ['GET', `/v1/prompts/only-a/versions/${reg.body.shortHash}`],
      ['GET', '/v1/prompts/only-a/versions/production'],
      ['GET', '/v1/prompts/only-a/latest'],
      ['GET', '/v1/prompts/only-a/aliases/production'],
      ['GET', '/v1/prompts/only-a/aliases/production/history'],
      ['GET', '/v1/prompts/only-a/aliases/latest/history'],
      ['GET', '/v1/prompts/only-a/diff?from=1&to=latest'],
      ['POST', '/v1/prompts/only-a/render', { ref: 'production', variables: { text: 'x' } }],
      ['PUT', '/v1/prompts/only-a/aliases/production', { ref: reg.body.hash }],
    ];
    for (const [method, url, body] of routes) {
      // Team A first, so the registry's cache holds the prompt when team B asks.
      const own = await r.request(method, url, body, as(teamA));
      const other = await r.request<ErrorBody>(method, url, body, as(teamB));
      const missing = await r.request<ErrorBody>(method, url, body, as(empty));
      expect([method, url, own.status < 300]).toEqual([method, url, true]);
      expect([method, url, other.status]).toEqual([method, url, 404]);
      expect([method, url, other.raw]).toEqual([method, url, missing.raw]);
    }
    // Team B's moves were refused: team A's alias has its one move.
    const history = await r.request<{ items: unknown[] }>(
      'GET',
      '/v1/prompts/only-a/aliases/production/history',
      undefined,
      as(teamA),
    );
    expect(history.body.items).toHaveLength(1);
  });

  it("another instance's cache follows an alias moved in a project (its event carries the project)", async () => {
    const other = await startRegistry(infra);
    try {
      await other.app.get(KeyDirectory).waitFor(teamA.keyId);
      await r.request('POST', '/v1/prompts/cached/versions', { spec: S1 }, as(teamA));
      const v2 = await r.request<{ hash: string }>(
        'POST',
        '/v1/prompts/cached/versions',
        { spec: S2 },
        as(teamA),
      );
      await r.request('PUT', '/v1/prompts/cached/aliases/production', { ref: '1' }, as(teamA));
      const get = () =>
        other.request<{ version: number; hash: string }>(
          'GET',
          '/v1/prompts/cached/versions/production',
          undefined,
          as(teamA),
        );
      expect((await get()).body.version).toBe(1); // now cached on the other instance
      await r.request('PUT', '/v1/prompts/cached/aliases/production', { ref: '2' }, as(teamA));
      // The alias TTL is 30 s: only the event explains a fast change.
      await expectEventually(async () => expect((await get()).body.hash).toBe(v2.body.hash), {
        timeoutMs: 20_000,
      });
    } finally {
      await other.close();
    }
  });
});

describe('keys and scopes', () => {
  it('401 unauthenticated without a key, with a malformed one and with an unknown one', async () => {
    const unknownKey = 'llmk_0123456789abcdef0123_' + 'A'.repeat(43);
    for (const authorization of [undefined, 'Bearer nope', `Basic ${unknownKey}`, `Bearer ${unknownKey}`]) {
      for (const [method, url, body] of [
        ['GET', '/v1/prompts'],
        ['GET', '/v1/prompts/summarizer/versions/1'],
        ['POST', '/v1/prompts/summarizer/versions', { spec: S1 }],
        ['PUT', '/v1/prompts/summarizer/aliases/production', { ref: '1' }],
      ] as const) {
        const res = await r.request<ErrorBody>(method, url, body, { authorization });
        expect([authorization, url, res.status, res.body.error.code]).toEqual([
          authorization,
          url,
          401,
          'unauthenticated',
        ]);
      }
    }
  });

  it('403 forbidden for a key without the scope of the route', async () => {
    const [reader, writer] = await Promise.all([
      r.issueKey({ scopes: ['prompts:read'], name: 'reader' }),
      r.issueKey({ scopes: ['prompts:write'], name: 'writer' }),
    ]);
    const write = await r.request<ErrorBody>('POST', '/v1/prompts/scoped/versions', { spec: S1 }, as(reader));
    expect([write.status, write.body.error.code]).toEqual([403, 'forbidden']);
    const registered = await r.request('POST', '/v1/prompts/scoped/versions', { spec: S1 }, as(writer));
    expect(registered.status).toBe(201);
    for (const key of [reader, writer]) {
      const move = await r.request<ErrorBody>(
        'PUT',
        '/v1/prompts/scoped/aliases/production',
        { ref: '1' },
        as(key),
      );
      expect([key.keyId, move.status, move.body.error.code]).toEqual([key.keyId, 403, 'forbidden']);
    }
    for (const [method, url, body] of [
      ['GET', '/v1/prompts'],
      ['GET', '/v1/prompts/scoped/versions'],
      ['GET', '/v1/prompts/scoped/latest'],
      ['POST', '/v1/prompts/scoped/render', { ref: '1', variables: { text: 'x' } }],
    ] as const) {
      const res = await r.request<ErrorBody>(method, url, body, as(writer));
      expect([url, res.status, res.body.error.code]).toEqual([url, 403, 'forbidden']);
      expect([url, (await r.request(method, url, body, as(reader))).status]).toEqual([url, 200]);
    }
  });

  it('a promote key limited to production moves production and gets 403 for staging', async () => {
    const promoter = await r.issueKey({
      scopes: ['prompts:promote'],
      aliases: ['production'],
      name: 'promoter',
    });
    expect((await r.request('POST', '/v1/prompts/promoted/versions', { spec: S1 })).status).toBe(201);
    const production = await r.request<{ actor: string }>(
      'PUT',
      '/v1/prompts/promoted/aliases/production',
      { ref: '1' },
      as(promoter),
    );
    expect([production.status, production.body.actor]).toEqual([200, promoter.keyId]);
    const staging = await r.request<ErrorBody>(
      'PUT',
      '/v1/prompts/promoted/aliases/staging',
      { ref: '1' },
      as(promoter),
    );
    expect([staging.status, staging.body.error.code]).toEqual([403, 'forbidden']);
    // Refused before anything is looked up: the same for a prompt that does not exist.
    const unknown = await r.request('PUT', '/v1/prompts/no-such/aliases/staging', { ref: '1' }, as(promoter));
    expect(unknown.status).toBe(403);
    expect((await r.request('GET', '/v1/prompts/promoted/aliases/staging')).status).toBe(404);
  });
});

describe('audit trail', () => {
  it('one record per registration and alias move, actor = the key id, in the key project', async () => {
    const auditor = await r.issueKey({ project: 'audited', name: 'auditor' });
    const first = await r.request<{ hash: string }>(
      'POST',
      '/v1/prompts/audited/versions',
      { spec: S1, metadata: { author: 'someone else' } },
      as(auditor),
    );
    const second = await r.request<{ hash: string }>(
      'POST',
      '/v1/prompts/audited/versions',
      { spec: S2 },
      as(auditor),
    );
    // Neither a re-registration nor a move to where the alias already points is a change.
    expect((await r.request('POST', '/v1/prompts/audited/versions', { spec: S1 }, as(auditor))).status).toBe(
      200,
    );
    for (const ref of ['1', '2', '2']) {
      const moved = await r.request(
        'PUT',
        '/v1/prompts/audited/aliases/production',
        { ref, note: `to ${ref}` },
        { ...as(auditor), 'x-actor': 'mallory' },
      );
      expect(moved.status).toBe(200);
    }

    const topic = registryTopics(r.config).audit;
    const ofProject = (records: ReadRecord[]) => records.filter((rec) => rec.key === 'audited');
    await readTopic(infra.kafkaBrokers.split(','), topic, (records) => ofProject(records).length >= 4);
    const audit = ofProject(await readAll(infra.kafkaBrokers.split(','), topic));
    const order = (x: Record<string, unknown>, y: Record<string, unknown>) =>
      JSON.stringify([x.resource, x.details]).localeCompare(JSON.stringify([y.resource, y.details]));
    expect(audit.map((rec) => rec.value.data).sort(order)).toEqual(
      [
        {
          project: 'audited',
          actor: auditor.keyId,
          action: 'alias.moved',
          resource: 'audited/production',
          details: { rev: 1, from: null, to: first.body.hash, toVersion: 1 },
          note: 'to 1',
        },
        {
          project: 'audited',
          actor: auditor.keyId,
          action: 'alias.moved',
          resource: 'audited/production',
          details: { rev: 2, from: first.body.hash, to: second.body.hash, toVersion: 2 },
          note: 'to 2',
        },
        ...[first.body.hash, second.body.hash].map((hash, i) => ({
          project: 'audited',
          actor: auditor.keyId,
          action: 'prompt.registered',
          resource: `audited@${hash}`,
          details: { version: i + 1 },
        })),
      ].sort(order),
    );
    for (const rec of audit) {
      expect(rec.value).toMatchObject({ type: 'io.llmops.audit.recorded.v1', project: 'audited' });
    }
    // The registry events of the project carry it too.
    const versions = await readAll(infra.kafkaBrokers.split(','), registryTopics(r.config).versions);
    expect(
      versions
        .filter((rec) => rec.value.project === 'audited')
        .map((rec) => [rec.value.id, rec.value.data.version]),
    ).toEqual([
      [`prompt-version/audited/audited/${first.body.hash}`, 1],
      [`prompt-version/audited/audited/${second.body.hash}`, 2],
    ]);
  });
});
