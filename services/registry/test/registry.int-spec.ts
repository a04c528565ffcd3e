/**
 * The registry against real Kafka and MongoDB (FerretDB): the reference scenario, identity,
 * ref resolution (prefix, number, alias), aliases with compare-and-set and history, render, diff,
 * bad input, concurrency, the published events, and cache invalidation across instances.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promptHash } from '@llmops/hashing';
import { expectEventually, testInfra } from '@llmops/testing';
import { promptSpecSchema } from '../src/domain/prompt-spec';
import { registryTopics } from '../src/outbox/registry-topics';
import { type RegistryTestApp, startRegistry } from './support/registry-app';
import { readAll } from './support/topic-reader';

interface Registered {
  name: string;
  hash: string;
  shortHash: string;
  version: number;
  createdAt: string;
  created: boolean;
}
interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

const MODEL = 'gpt-4o-mini';
const infra = testInfra();
let r: RegistryTestApp;

const register = (name: string, spec: unknown, metadata?: unknown) =>
  r.request<Registered>(
    'POST',
    `/v1/prompts/${name}/versions`,
    metadata === undefined ? { spec } : { spec, metadata },
  );

beforeAll(async () => {
  r = await startRegistry(infra);
});

afterAll(async () => {
  await r?.close();
});

describe('reference scenario', () => {
  it('two templates give versions 1 and 2; re-registering gives the same hash; latest and short-hash lookup', async () => {
    const first = await register('summarizer', { template: 'Summarize: {text}', model: MODEL });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ name: 'summarizer', version: 1, created: true });
    expect(first.body.hash).toBe(promptHash({ template: 'Summarize: {text}', model: MODEL }).hash);
    expect(first.body.shortHash).toBe(first.body.hash.slice(0, 12));

    const second = await register('summarizer', {
      template: 'Provide a concise summary of: {text}',
      model: MODEL,
    });
    expect(second.status).toBe(201);
    expect(second.body).toMatchObject({ version: 2, created: true });
    expect(second.body.hash).not.toBe(first.body.hash);

    const again = await register('summarizer', { model: MODEL, template: 'Summarize: {text}' });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ ...first.body, created: false });

    const latest = await r.request<Registered>('GET', '/v1/prompts/summarizer/latest');
    expect(latest.status).toBe(200);
    expect(latest.body).toMatchObject({ version: 2, hash: second.body.hash });

    const byShort = await r.request<Registered & { spec: unknown }>(
      'GET',
      `/v1/prompts/summarizer/versions/${first.body.shortHash}`,
    );
    expect(byShort.status).toBe(200);
    expect(byShort.body).toMatchObject({
      version: 1,
      hash: first.body.hash,
      spec: { template: 'Summarize: {text}', model: MODEL },
    });
  });
});

describe('identity', () => {
  const base = {
    template: 'Translate to {lang}: {text}',
    model: MODEL,
    params: { temperature: 0.7, max_tokens: 256 },
  };

  it('changing only params.temperature or model gives a new hash; metadata does not', async () => {
    const a = await register('identity', base, { author: 'ada' });
    const temp = await register('identity', { ...base, params: { ...base.params, temperature: 0.2 } });
    const model = await register('identity', { ...base, model: 'claude-3-5-sonnet' });
    const meta = await register('identity', base, { author: 'bob', description: 'other words', tags: ['x'] });
    expect(a.status).toBe(201);
    expect(temp.status).toBe(201);
    expect(model.status).toBe(201);
    expect(new Set([a.body.hash, temp.body.hash, model.body.hash]).size).toBe(3);
    expect(meta.status).toBe(200);
    expect(meta.body).toMatchObject({ hash: a.body.hash, version: 1, created: false });
    // The first registration's metadata is kept.
    const got = await r.request<{ metadata: unknown }>('GET', `/v1/prompts/identity/versions/${a.body.hash}`);
    expect(got.body.metadata).toEqual({ author: 'ada' });
  });

  it('key order, whitespace and number spelling do not change the hash', async () => {
    const raw =
      '{ "spec": { "params": { "max_tokens": 256, "temperature": 0.70 }, "model": "gpt-4o-mini", "template": "Translate to {lang}: {text}" } }';
    const res = await r.request<Registered>('POST', '/v1/prompts/identity/versions', raw);
    expect(res.status).toBe(200);
    expect(res.body.version).toBe(1);
  });

  it('matches hashes computed independently by Python rfc8785 (libs/hashing fixtures)', async () => {
    const fixture = JSON.parse(
      readFileSync(join(__dirname, '../../../libs/hashing/fixtures/prompt-hashes.json'), 'utf8'),
    ) as {
      cases: { name: string; spec: unknown; hash: string }[];
    };
    const usable = fixture.cases.filter((c) => promptSpecSchema.safeParse(c.spec).success);
    expect(usable.length).toBeGreaterThanOrEqual(10);
    for (const [i, c] of usable.entries()) {
      const res = await register(`fixture-${i}`, c.spec);
      expect({ name: c.name, status: res.status, hash: res.body.hash }).toEqual({
        name: c.name,
        status: 201,
        hash: c.hash,
      });
    }
  });
});

describe('refs: hash, prefix, number, alias', () => {
  it('resolves a full hash, a 7-char prefix, a version number and 404s on unknown refs', async () => {
    const v1 = await register('refs', { template: 'one {x}', model: MODEL });
    await register('refs', { template: 'two {x}', model: MODEL });
    for (const ref of [v1.body.hash, v1.body.hash.slice(0, 7), v1.body.hash.toUpperCase(), '1']) {
      const res = await r.request<Registered>('GET', `/v1/prompts/refs/versions/${ref}`);
      expect({ ref, status: res.status, version: res.body.version }).toEqual({
        ref,
        status: 200,
        version: 1,
      });
    }
    for (const ref of ['3', 'nope', '0000000', 'f'.repeat(64), 'Bad!']) {
      const res = await r.request<ErrorBody>('GET', `/v1/prompts/refs/versions/${encodeURIComponent(ref)}`);
      expect({ ref, status: res.status, code: res.body.error.code }).toEqual({
        ref,
        status: 404,
        code: 'version_not_found',
      });
    }
    const unknown = await r.request<ErrorBody>('GET', '/v1/prompts/never-registered/versions/1');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('prompt_not_found');
  });

  it('an ambiguous prefix gives 409 listing every candidate', async () => {
    // Brute force two specs whose hashes share the first 7 hex characters (~16k tries).
    const seen = new Map<string, number>();
    let pair: [number, number] | undefined;
    for (let i = 0; !pair; i++) {
      const p = promptHash({ template: `candidate ${i}`, model: MODEL }).hash.slice(0, 7);
      const other = seen.get(p);
      if (other !== undefined) pair = [other, i];
      else seen.set(p, i);
    }
    const a = await register('ambiguous', { template: `candidate ${pair[0]}`, model: MODEL });
    const b = await register('ambiguous', { template: `candidate ${pair[1]}`, model: MODEL });
    const prefix = a.body.hash.slice(0, 7);
    expect(b.body.hash.slice(0, 7)).toBe(prefix);

    const res = await r.request<ErrorBody>('GET', `/v1/prompts/ambiguous/versions/${prefix}`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('ambiguous_ref');
    const candidates = res.body.error.details!.candidates as { hash: string; version: number }[];
    expect(candidates.map((c) => c.hash).sort()).toEqual([a.body.hash, b.body.hash].sort());

    // Long enough to be unique again (or the full hash) resolves.
    let n = 8;
    while (a.body.hash.slice(0, n) === b.body.hash.slice(0, n)) n++;
    const ok = await r.request<Registered>(
      'GET',
      `/v1/prompts/ambiguous/versions/${a.body.hash.slice(0, n)}`,
    );
    expect(ok.status).toBe(200);
    expect(ok.body.hash).toBe(a.body.hash);

    // Rendering or aliasing through an ambiguous prefix is refused the same way.
    const render = await r.request<ErrorBody>('POST', '/v1/prompts/ambiguous/render', { ref: prefix });
    expect(render.status).toBe(409);
  });
});

describe('aliases', () => {
  let v1: Registered;
  let v2: Registered;

  beforeAll(async () => {
    v1 = (await register('aliased', { template: 'A {x}', model: MODEL })).body;
    v2 = (await register('aliased', { template: 'B {x}', model: MODEL })).body;
  });

  it('moves an alias, resolves through it, and keeps every move in the history', async () => {
    const created = await r.request<Record<string, unknown>>(
      'PUT',
      '/v1/prompts/aliased/aliases/production',
      { ref: '1', note: 'first release' },
    );
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      alias: 'production',
      hash: v1.hash,
      version: 1,
      previous: null,
      rev: 1,
      actor: r.key.keyId,
      note: 'first release',
      moved: true,
    });

    expect((await r.request<Registered>('GET', '/v1/prompts/aliased/versions/production')).body.version).toBe(
      1,
    );

    const moved = await r.request<Record<string, unknown>>('PUT', '/v1/prompts/aliased/aliases/production', {
      ref: v2.shortHash,
      expected: v1.hash,
    });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({
      hash: v2.hash,
      previous: v1.hash,
      rev: 2,
      actor: r.key.keyId,
      moved: true,
    });
    expect(moved.body).not.toHaveProperty('note');
    expect((await r.request<Registered>('GET', '/v1/prompts/aliased/versions/production')).body.version).toBe(
      2,
    );
    expect((await r.request<Registered>('GET', '/v1/prompts/aliased/aliases/production')).body).toMatchObject(
      { hash: v2.hash, version: 2 },
    );

    const same = await r.request<Record<string, unknown>>('PUT', '/v1/prompts/aliased/aliases/production', {
      ref: '2',
    });
    expect(same.body).toMatchObject({ moved: false, rev: 2 });

    const history = await r.request<{ items: Record<string, unknown>[]; nextCursor: string | null }>(
      'GET',
      '/v1/prompts/aliased/aliases/production/history',
    );
    expect(history.status).toBe(200);
    expect(history.body.items).toEqual([
      {
        rev: 2,
        movedAt: expect.any(String),
        from: v1.hash,
        fromVersion: 1,
        to: v2.hash,
        toVersion: 2,
        actor: r.key.keyId,
      },
      {
        rev: 1,
        movedAt: expect.any(String),
        from: null,
        fromVersion: null,
        to: v1.hash,
        toVersion: 1,
        actor: r.key.keyId,
        note: 'first release',
      },
    ]);
    const page = await r.request<{ items: { rev: number }[]; nextCursor: string | null }>(
      'GET',
      '/v1/prompts/aliased/aliases/production/history?limit=1',
    );
    expect(page.body.items.map((i) => i.rev)).toEqual([2]);
    const next = await r.request<{ items: { rev: number }[]; nextCursor: string | null }>(
      'GET',
      `/v1/prompts/aliased/aliases/production/history?limit=1&cursor=${page.body.nextCursor}`,
    );
    expect(next.body.items.map((i) => i.rev)).toEqual([1]);
    expect(next.body.nextCursor).toBeNull();
  });

  it('compare-and-set: a stale or wrong expected hash gives 409 and moves nothing', async () => {
    const wrong = await r.request<ErrorBody>('PUT', '/v1/prompts/aliased/aliases/production', {
      ref: '1',
      expected: v1.hash,
    });
    expect(wrong.status).toBe(409);
    expect(wrong.body.error.code).toBe('alias_conflict');
    expect(wrong.body.error.details).toMatchObject({ expected: v1.hash, actual: v2.hash, actualVersion: 2 });

    const mustNotExist = await r.request<ErrorBody>('PUT', '/v1/prompts/aliased/aliases/production', {
      ref: '1',
      expected: null,
    });
    expect(mustNotExist.status).toBe(409);
    const fresh = await r.request<ErrorBody>('PUT', '/v1/prompts/aliased/aliases/staging', {
      ref: '1',
      expected: null,
    });
    expect(fresh.status).toBe(200);

    // Concurrent CAS from the same state: exactly one wins.
    const racers = await Promise.all(
      ['1', '2', '1', '2', '1', '2'].map((ref) =>
        r.request<ErrorBody>('PUT', '/v1/prompts/aliased/aliases/race', { ref, expected: null }),
      ),
    );
    expect(racers.filter((x) => x.status === 200)).toHaveLength(1);
    expect(racers.filter((x) => x.status === 409)).toHaveLength(5);
    const hist = await r.request<{ items: unknown[] }>('GET', '/v1/prompts/aliased/aliases/race/history');
    expect(hist.body.items).toHaveLength(1);
  });

  it('latest is reserved, maintained automatically, and has a derived history', async () => {
    const reserved = await r.request<ErrorBody>('PUT', '/v1/prompts/aliased/aliases/latest', { ref: '1' });
    expect(reserved.status).toBe(400);
    expect(reserved.body.error.code).toBe('reserved_alias');
    expect((await r.request<Registered>('GET', '/v1/prompts/aliased/versions/latest')).body.version).toBe(2);
    const v3 = await register('aliased', { template: 'C {x}', model: MODEL }, { author: 'cy' });
    expect((await r.request<Registered>('GET', '/v1/prompts/aliased/versions/latest')).body.hash).toBe(
      v3.body.hash,
    );
    const history = await r.request<{ items: Record<string, unknown>[] }>(
      'GET',
      '/v1/prompts/aliased/aliases/latest/history',
    );
    // Each registration moved it: the actor is the key that registered the version.
    expect(history.body.items.map((i) => [i.fromVersion, i.toVersion, i.actor])).toEqual([
      [2, 3, r.key.keyId],
      [1, 2, r.key.keyId],
      [null, 1, r.key.keyId],
    ]);
  });

  it('refuses alias names that would read as a number or a hash prefix, and unknown targets', async () => {
    for (const alias of ['42', 'deadbeef', 'Prod']) {
      const res = await r.request<ErrorBody>('PUT', `/v1/prompts/aliased/aliases/${alias}`, { ref: '1' });
      expect({ alias, status: res.status, code: res.body.error.code }).toEqual({
        alias,
        status: 400,
        code: 'invalid_alias',
      });
    }
    const unknown = await r.request<ErrorBody>('PUT', '/v1/prompts/aliased/aliases/prod2', { ref: '99' });
    expect(unknown.status).toBe(404);
    expect(
      (await r.request<ErrorBody>('GET', '/v1/prompts/aliased/aliases/nope/history')).body.error.code,
    ).toBe('alias_not_found');
    const bad = await r.request<ErrorBody>('PUT', '/v1/prompts/aliased/aliases/prod2', {
      ref: '1',
      expected: 'abc',
      extra: 1,
    });
    expect(bad.status).toBe(400);
    expect((bad.body.error.details!.issues as { path: string }[]).map((i) => i.path).sort()).toEqual([
      'expected',
      'extra',
    ]);
  });

  it('lists prompts with their latest version and aliases, paginated', async () => {
    const page1 = await r.request<{
      items: { name: string; latest: { version: number }; aliases: Record<string, { version: number }> }[];
      nextCursor: string;
    }>('GET', '/v1/prompts?limit=1');
    expect(page1.status).toBe(200);
    expect(page1.body.items).toHaveLength(1);
    const all: { name: string; latest: { version: number }; aliases: Record<string, { version: number }> }[] =
      [...page1.body.items];
    let cursor: string | null = page1.body.nextCursor;
    while (cursor) {
      const next: { body: { items: typeof all; nextCursor: string | null } } = await r.request(
        'GET',
        `/v1/prompts?limit=2&cursor=${cursor}`,
      );
      all.push(...next.body.items);
      cursor = next.body.nextCursor;
    }
    const names = all.map((p) => p.name);
    expect(names).toEqual([...names].sort());
    const aliased = all.find((p) => p.name === 'aliased')!;
    expect(aliased.latest.version).toBe(3);
    expect(aliased.aliases.production.version).toBe(2);
    expect(aliased.aliases.staging.version).toBe(1);
    expect((await r.request<ErrorBody>('GET', '/v1/prompts?cursor=garbage')).body.error.code).toBe(
      'invalid_cursor',
    );
  });

  it('lists versions newest first, paginated', async () => {
    const p1 = await r.request<{ items: { version: number }[]; nextCursor: string }>(
      'GET',
      '/v1/prompts/aliased/versions?limit=2',
    );
    expect(p1.body.items.map((v) => v.version)).toEqual([3, 2]);
    const p2 = await r.request<{ items: { version: number }[]; nextCursor: string | null }>(
      'GET',
      `/v1/prompts/aliased/versions?limit=2&cursor=${p1.body.nextCursor}`,
    );
    expect(p2.body.items.map((v) => v.version)).toEqual([1]);
    expect(p2.body.nextCursor).toBeNull();
    expect((await r.request('GET', '/v1/prompts/nothing-here/versions')).status).toBe(404);
  });
});

describe('render', () => {
  beforeAll(async () => {
    await register('render', { template: 'Summarize: {text}', model: MODEL, params: { temperature: 0.3 } });
    await register('render', {
      model: MODEL,
      system: 'You write in {lang}. Output JSON like {{"summary": "..."}}.',
      messages: [{ role: 'user', content: 'Summarize {text} for {audience}' }],
    });
  });

  it('renders text and chat messages', async () => {
    const text = await r.request<Record<string, unknown>>('POST', '/v1/prompts/render/render', {
      ref: '1',
      variables: { text: 'the report' },
    });
    expect(text.status).toBe(200);
    expect(text.body).toMatchObject({
      version: 1,
      model: MODEL,
      params: { temperature: 0.3 },
      text: 'Summarize: the report',
    });
    expect(text.body.messages).toBeUndefined();

    const chat = await r.request<Record<string, unknown>>('POST', '/v1/prompts/render/render', {
      ref: 'latest',
      variables: { lang: 'French', text: 'X', audience: 'kids', unused: true },
    });
    expect(chat.body).toMatchObject({
      version: 2,
      params: {},
      messages: [
        { role: 'system', content: 'You write in French. Output JSON like {"summary": "..."}.' },
        { role: 'user', content: 'Summarize X for kids' },
      ],
    });
  });

  it('names every missing variable (422) and 404s on unknown refs', async () => {
    const res = await r.request<ErrorBody>('POST', '/v1/prompts/render/render', {
      ref: '2',
      variables: { text: 'X' },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('missing_variables');
    expect(res.body.error.details).toEqual({ missing: ['lang', 'audience'] });
    expect((await r.request('POST', '/v1/prompts/render/render', { ref: '9' })).status).toBe(404);
    const bad = await r.request<ErrorBody>('POST', '/v1/prompts/render/render', {
      ref: '1',
      variables: { text: { a: 1 } },
    });
    expect(bad.status).toBe(400);
  });
});

describe('diff', () => {
  it('reports changed fields and line diffs', async () => {
    await register('diffed', {
      template: 'Line one\nSummarize: {text}\n',
      model: MODEL,
      params: { temperature: 0.7 },
    });
    await register('diffed', {
      template: 'Line one\nBriefly summarize: {text}\n',
      model: 'gpt-4o',
      params: { temperature: 0.7, seed: 1 },
    });
    const res = await r.request<
      Record<string, unknown> & { text: { template: { parts: unknown[]; unified: string } } }
    >('GET', '/v1/prompts/diffed/diff?from=1&to=latest');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      from: { version: 1 },
      to: { version: 2 },
      identical: false,
      changedFields: ['model', 'params', 'template'],
    });
    expect(res.body.changes).toEqual(
      expect.arrayContaining([
        { path: 'model', kind: 'changed', from: MODEL, to: 'gpt-4o' },
        { path: 'params.seed', kind: 'added', to: 1 },
      ]),
    );
    expect(res.body.text.template.parts).toEqual([
      { op: 'equal', lines: ['Line one'] },
      { op: 'removed', lines: ['Summarize: {text}'] },
      { op: 'added', lines: ['Briefly summarize: {text}'] },
    ]);
    expect(res.body.text.template.unified).toContain('+Briefly summarize: {text}');

    expect((await r.request<ErrorBody>('GET', '/v1/prompts/diffed/diff?from=1')).status).toBe(400);
    expect((await r.request<ErrorBody>('GET', '/v1/prompts/diffed/diff?from=1&to=7')).status).toBe(404);
  });
});

describe('bad input', () => {
  const ok = { template: 'x', model: MODEL };

  it.each([
    ['unknown top-level field', { spec: ok, extra: 1 }, 'extra'],
    ['unknown spec field', { spec: { ...ok, temprature: 1 } }, 'spec.temprature'],
    ['empty template', { spec: { template: '', model: MODEL } }, 'spec.template'],
    ['empty messages', { spec: { messages: [], model: MODEL } }, 'spec.messages'],
    [
      'template and messages',
      { spec: { ...ok, messages: [{ role: 'user', content: 'x' }] } },
      'spec.messages',
    ],
    ['no template or messages', { spec: { model: MODEL } }, 'spec.template'],
    ['missing model', { spec: { template: 'x' } }, 'spec.model'],
    [
      'bad role',
      { spec: { model: MODEL, messages: [{ role: 'tool', content: 'x' }] } },
      'spec.messages.0.role',
    ],
    ['unknown metadata field', { spec: ok, metadata: { owner: 'x' } }, 'metadata.owner'],
    ['no spec', {}, 'spec'],
  ])('%s gives 400 validation_failed naming %s', async (_label, body, path) => {
    const res = await r.request<ErrorBody>('POST', '/v1/prompts/bad/versions', body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect((res.body.error.details!.issues as { path: string }[]).map((i) => i.path)).toContain(path);
  });

  it('invalid names give 400 invalid_name on every endpoint', async () => {
    for (const name of ['Bad', '-x', '.x', 'a%20b', 'a_b!']) {
      const post = await r.request<ErrorBody>('POST', `/v1/prompts/${name}/versions`, { spec: ok });
      const get = await r.request<ErrorBody>('GET', `/v1/prompts/${name}/versions/1`);
      expect([name, post.status, post.body.error.code, get.status, get.body.error.code]).toEqual([
        name,
        400,
        'invalid_name',
        400,
        'invalid_name',
      ]);
    }
  });

  it('malformed JSON gives 400; a lone surrogate is refused with 400', async () => {
    const res = await r.request<ErrorBody>('POST', '/v1/prompts/bad/versions', '{"spec": ');
    expect(res.status).toBe(400);
    const surrogate = await r.request<ErrorBody>(
      'POST',
      '/v1/prompts/bad/versions',
      '{"spec":{"template":"\\ud800","model":"m"}}',
    );
    expect(surrogate.status).toBe(400);
    // Refused by the platform's body parser, before the spec's schema, with the field's path.
    expect(surrogate.body.error.code).toBe('invalid_unicode');
    expect(surrogate.body.error.details).toMatchObject({ path: 'spec.template' });
  });

  it('malformed JSON gives the platform code invalid_json', async () => {
    const res = await r.request<ErrorBody>('POST', '/v1/prompts/bad/versions', '{"spec": ');
    expect(res.body.error.code).toBe('invalid_json');
  });

  it('a valid 128-character name can be registered', async () => {
    const res = await register('a'.repeat(128), ok);
    expect(res.status).toBe(201);
  });

  it('names over 128 characters are refused', async () => {
    const res = await register('a'.repeat(129), ok);
    expect(res.status).toBe(400);
  });

  it('a spec over 256 KiB gives 413 (spec_too_large; payload_too_large for huge bodies)', async () => {
    const atLimit = { template: 'x'.repeat(256 * 1024 - 60), model: MODEL };
    expect((await register('big', atLimit)).status).toBe(201);
    const over = await register('big', { template: 'x'.repeat(256 * 1024 + 1), model: MODEL });
    expect(over.status).toBe(413);
    expect((over.body as unknown as ErrorBody).error.code).toBe('spec_too_large');
    const huge = await register('big', { template: 'x'.repeat(2 * 1024 * 1024), model: MODEL });
    expect(huge.status).toBe(413);
    expect((huge.body as unknown as ErrorBody).error.code).toBe('payload_too_large');
  });
});

describe('concurrency', () => {
  it('20 concurrent identical registrations create exactly one version', async () => {
    const spec = { template: 'Concurrent {x}', model: MODEL, params: { temperature: 1 } };
    const results = await Promise.all(Array.from({ length: 20 }, () => register('concurrent', spec)));
    // Any failure, with its body (a timeout under load reads differently from a wrong answer).
    expect(results.filter((x) => x.status >= 300).map((x) => [x.status, x.raw])).toEqual([]);
    expect(results.filter((x) => x.status === 201)).toHaveLength(1);
    expect(results.filter((x) => x.status === 200)).toHaveLength(19);
    expect(new Set(results.map((x) => x.body.hash)).size).toBe(1);
    expect(new Set(results.map((x) => x.body.version))).toEqual(new Set([1]));
    const list = await r.request<{ items: unknown[] }>('GET', '/v1/prompts/concurrent/versions');
    expect(list.body.items).toHaveLength(1);
  });

  it('concurrent different specs get distinct consecutive numbers', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        register('concurrent-many', { template: `Spec ${i} {x}`, model: MODEL }),
      ),
    );
    expect(results.every((x) => x.status === 201)).toBe(true);
    expect(results.map((x) => x.body.version).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
  });
});

describe('events', () => {
  it('publishes one version event per created version and one alias event per move, with deterministic ids', async () => {
    const topics = registryTopics(r.config);
    const brokers = [infra.kafkaBrokers];
    const v1 = await register('evented', { template: 'E1 {x}', model: MODEL }, { author: 'ada' });
    await register('evented', { template: 'E1 {x}', model: MODEL });
    const v2 = await register('evented', { template: 'E2 {x}', model: MODEL });
    await r.request(
      'PUT',
      '/v1/prompts/evented/aliases/prod',
      { ref: '1' },
      { 'x-correlation-id': 'corr-evented-1' },
    );
    await r.request('PUT', '/v1/prompts/evented/aliases/prod', { ref: '2' });

    const versionEvents = await expectEventually(async () => {
      const records = (await readAll(brokers, topics.versions)).filter((x) => x.key === 'evented');
      expect(records).toHaveLength(2);
      return records;
    });
    expect(versionEvents.map((e) => e.value.id)).toEqual([
      `prompt-version/evented/${v1.body.hash}`,
      `prompt-version/evented/${v2.body.hash}`,
    ]);
    expect(versionEvents[0].value).toMatchObject({
      type: 'io.llmops.prompt.version.registered.v1',
      source: '/llmops/registry',
      data: {
        name: 'evented',
        hash: v1.body.hash,
        version: 1,
        spec: { template: 'E1 {x}', model: MODEL },
        metadata: { author: 'ada' },
      },
    });
    expect(versionEvents[0].headers['content-type']).toBe('application/cloudevents+json');

    const aliasEvents = await expectEventually(async () => {
      const records = (await readAll(brokers, topics.aliases)).filter((x) => x.key === 'evented');
      expect(records).toHaveLength(2);
      return records;
    });
    expect(aliasEvents.map((e) => [e.value.id, e.value.data.from, e.value.data.to])).toEqual([
      ['prompt-alias/evented/prod/1', null, v1.body.hash],
      ['prompt-alias/evented/prod/2', v1.body.hash, v2.body.hash],
    ]);
    expect(aliasEvents[0].headers['x-correlation-id']).toBe('corr-evented-1');
  });
});

describe('cache invalidation across instances', () => {
  it('an alias moved on one instance is seen by another through the alias-moved event', async () => {
    const other = await startRegistry(infra);
    try {
      await register('shared', { template: 'S1 {x}', model: MODEL });
      const v2 = await register('shared', { template: 'S2 {x}', model: MODEL });
      await r.request('PUT', '/v1/prompts/shared/aliases/prod', { ref: '1' });
      // The other instance caches the alias...
      expect((await other.request<Registered>('GET', '/v1/prompts/shared/versions/prod')).body.version).toBe(
        1,
      );
      expect((await other.request<Registered>('GET', '/v1/prompts/shared/latest')).body.version).toBe(2);
      // ...and drops it when the event arrives (the TTL is 30 s, so only the event can explain a fast change).
      await r.request('PUT', '/v1/prompts/shared/aliases/prod', { ref: '2' });
      const v3 = await register('shared', { template: 'S3 {x}', model: MODEL });
      await expectEventually(
        async () => {
          expect((await other.request<Registered>('GET', '/v1/prompts/shared/versions/prod')).body.hash).toBe(
            v2.body.hash,
          );
          expect((await other.request<Registered>('GET', '/v1/prompts/shared/latest')).body.hash).toBe(
            v3.body.hash,
          );
        },
        { timeoutMs: 20_000 },
      );
    } finally {
      await other.close();
    }
  });
});

describe('OpenAPI', () => {
  it('documents the endpoints at /docs-json', async () => {
    const doc = await r.request<{ paths: Record<string, unknown> }>('GET', '/docs-json');
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/v1/prompts/{name}/versions',
        '/v1/prompts/{name}/versions/{ref}',
        '/v1/prompts/{name}/aliases/{alias}',
        '/v1/prompts/{name}/aliases/{alias}/history',
        '/v1/prompts/{name}/render',
        '/v1/prompts/{name}/diff',
        '/v1/prompts/{name}/latest',
        '/v1/prompts',
      ]),
    );
  });
});
