/**
 * The identity service against real Kafka and MongoDB: projects, keys and their propagation to the
 * service's own key directory (the apiKeys topic), revocation within 5 s, deleted projects, bad
 * input, cross-project 404s and the audit trail.
 */
import { type Scope, TOPICS, topicName } from '@llmops/contracts';
import { parseApiKey } from '@llmops/hashing';
import {
  AuditTrail,
  auditEvent,
  BatchingProducer,
  KafkaUnavailableError,
  KeyDirectory,
} from '@llmops/platform';
import { validate } from '@readme/openapi-parser';
import { expectEventually, readTopicUntil, testInfra } from '@llmops/testing';
import type { ApiKey } from '../src/persistence/api-key.repository';
import { KeyPublisher } from '../src/projects/key-publisher';
import { type Answer, type IdentityTestApp, startIdentity } from './support/identity-app';
import { lastKeySnapshots } from './support/key-topic';

interface ErrorBody {
  error: { code: string; message: string; details?: { issues?: { path: string; message: string }[] } };
}
interface CreatedKey {
  key: string;
  keyId: string;
  project: string;
  name: string;
  scopes: string[];
  aliases: string[] | null;
  expiresAt: string | null;
  createdAt: string;
}
interface KeyView extends Omit<CreatedKey, 'key'> {
  revokedAt: string | null;
  lastUsedAt: string | null;
  createdBy: string;
}
interface AuditItem {
  id: string;
  project: string;
  time: string;
  actor: string;
  action: string;
  resource: string;
  details?: Record<string, unknown>;
}
interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

const infra = testInfra();
let identity: IdentityTestApp;

beforeAll(async () => {
  identity = await startIdentity(infra);
});

afterAll(async () => {
  await identity?.close();
});

const createProject = (id: string, key?: string) => identity.request('POST', '/v1/projects', { id }, key);
const createKey = (project: string, body: Record<string, unknown>, key?: string) =>
  identity.request<CreatedKey>('POST', `/v1/projects/${project}/keys`, body, key);

/** Creates a key and waits until the service's own key directory knows it (it came back from Kafka). */
async function usableKey(project: string, body: Record<string, unknown>, key?: string): Promise<CreatedKey> {
  const created = await createKey(project, body, key);
  expect(created.status).toBe(201);
  await identity.app.get(KeyDirectory).waitFor(created.body.keyId);
  return created.body;
}

function issuePaths(answer: Answer<unknown>): string[] {
  return ((answer.body as ErrorBody).error.details?.issues ?? []).map((i) => i.path);
}

describe('projects and keys', () => {
  it('creates a project and a key; the plain key appears once and works against the service itself', async () => {
    const project = await createProject('checkout');
    expect(project.status).toBe(201);
    expect(project.body).toMatchObject({ id: 'checkout', name: 'checkout', createdBy: identity.admin.keyId });
    expect((await createProject('checkout')).status).toBe(409);

    const created = await createKey('checkout', {
      name: 'checkout admin',
      scopes: ['admin', 'prompts:read'],
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      project: 'checkout',
      name: 'checkout admin',
      scopes: ['admin', 'prompts:read'],
      aliases: null,
      expiresAt: null,
    });
    expect(created.body.key).toMatch(new RegExp(`^llmk_${created.body.keyId}_[A-Za-z0-9_-]{43}$`));

    const own = await expectEventually(async () => {
      const answer = await identity.request('GET', '/v1/projects/checkout', undefined, created.body.key);
      expect(answer.status).toBe(200);
      return answer;
    });
    expect(own.body).toMatchObject({ id: 'checkout' });
    // An admin key of a project may create keys there, but never platform:admin ones.
    const refused = await createKey(
      'checkout',
      { name: 'escalation', scopes: ['platform:admin'] },
      created.body.key,
    );
    expect(refused.status).toBe(403);
    expect((refused.body as unknown as ErrorBody).error.code).toBe('forbidden');
    expect(
      (await createKey('checkout', { name: 'reader', scopes: ['prompts:read'] }, created.body.key)).status,
    ).toBe(201);
  });

  it('lists and reads keys without any secret or hash, and records a coarse last-used time', async () => {
    await createProject('listing');
    const created = await usableKey('listing', { name: 'lister', scopes: ['admin'] });
    await usableKey('listing', { name: 'promoter', scopes: ['prompts:promote'], aliases: ['production'] });
    // The whole secret: a fragment between two of its `_` could occur in an answer by chance.
    const secret = parseApiKey(created.key)!.secret;

    const list = await identity.request<Page<KeyView>>(
      'GET',
      '/v1/projects/listing/keys',
      undefined,
      created.key,
    );
    expect(list.status).toBe(200);
    expect(list.body.items.map((k) => k.name).sort()).toEqual(['lister', 'promoter']);
    expect(list.raw).not.toContain(secret);
    expect(list.raw).not.toMatch(/secret|hash/i);
    expect(list.body.items.find((k) => k.name === 'promoter')).toMatchObject({
      aliases: ['production'],
      revokedAt: null,
    });

    const first = await identity.request<Page<KeyView>>('GET', '/v1/projects/listing/keys?limit=1');
    expect(first.body.items).toHaveLength(1);
    const second = await identity.request<Page<KeyView>>(
      'GET',
      `/v1/projects/listing/keys?limit=1&cursor=${first.body.nextCursor}`,
    );
    expect(second.body.items).toHaveLength(1);
    expect(second.body.items[0].keyId).not.toBe(first.body.items[0].keyId);
    expect(second.body.nextCursor).toBeNull();

    const one = await expectEventually(async () => {
      const answer = await identity.request<KeyView>('GET', `/v1/projects/listing/keys/${created.keyId}`);
      expect(answer.body.lastUsedAt).not.toBeNull();
      return answer;
    });
    expect(one.status).toBe(200);
    expect(one.raw).not.toMatch(/secret|hash/i);
    expect(one.body).toMatchObject({ keyId: created.keyId, createdBy: identity.admin.keyId });
  });

  it('a revoked key answers 401 within 5 s; revoking again is a 204 too', async () => {
    await createProject('revoking');
    const victim = await usableKey('revoking', { name: 'victim', scopes: ['admin'] });
    expect((await identity.request('GET', '/v1/projects/revoking', undefined, victim.key)).status).toBe(200);

    const revoked = await identity.request('DELETE', `/v1/projects/revoking/keys/${victim.keyId}`);
    expect(revoked.status).toBe(204);
    const start = Date.now();
    const unauthenticated = await expectEventually(
      async () => {
        const answer = await identity.request<ErrorBody>(
          'GET',
          '/v1/projects/revoking',
          undefined,
          victim.key,
        );
        expect(answer.status).toBe(401);
        return answer;
      },
      { timeoutMs: 5_000, intervalMs: 50 },
    );
    expect(Date.now() - start).toBeLessThan(5_000);
    expect(unauthenticated.body.error.code).toBe('unauthenticated');
    expect((await identity.request('DELETE', `/v1/projects/revoking/keys/${victim.keyId}`)).status).toBe(204);
    const view = await identity.request<KeyView>('GET', `/v1/projects/revoking/keys/${victim.keyId}`);
    expect(view.body.revokedAt).not.toBeNull();
  });

  it("deleting a project makes its keys 401 everywhere and its resources 404; default can't be deleted", async () => {
    await createProject('doomed');
    const key = await usableKey('doomed', { name: 'doomed admin', scopes: ['admin'] });
    expect((await identity.request('GET', '/v1/projects/doomed', undefined, key.key)).status).toBe(200);

    expect((await identity.request('DELETE', '/v1/projects/doomed')).status).toBe(204);
    await expectEventually(
      async () =>
        expect((await identity.request('GET', '/v1/projects/doomed', undefined, key.key)).status).toBe(401),
      { timeoutMs: 5_000, intervalMs: 50 },
    );
    expect((await identity.request('GET', '/v1/projects/doomed')).status).toBe(404);
    expect((await createKey('doomed', { name: 'late', scopes: ['admin'] })).status).toBe(404);
    expect((await identity.request('DELETE', '/v1/projects/doomed')).status).toBe(204);
    expect((await createProject('doomed')).status).toBe(409);

    const protectedDefault = await identity.request<ErrorBody>('DELETE', '/v1/projects/default');
    expect(protectedDefault.status).toBe(409);
    expect(protectedDefault.body.error.code).toBe('project_protected');
    expect((await identity.request('DELETE', '/v1/projects/never-existed')).status).toBe(404);
  });

  it('a key created while its project is deleted answers 404 and is dead on the topic', async () => {
    await createProject('vanishing');
    // The creation's publish is held until the deletion (which republishes the stored keys) is done.
    const publisher = identity.app.get(KeyPublisher);
    const publish = publisher.publish.bind(publisher);
    let held: readonly ApiKey[] | undefined;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const spy = jest.spyOn(publisher, 'publish').mockImplementationOnce(async (...args) => {
      held = args[0];
      await released;
      return publish(...args);
    });
    try {
      const creating = createKey('vanishing', { name: 'late', scopes: ['admin'] });
      await expectEventually(() => expect(held).toBeDefined());
      expect((await identity.request('DELETE', '/v1/projects/vanishing')).status).toBe(204);
      release();
      const created = (await creating) as Answer<unknown> as Answer<ErrorBody>;
      expect(created.status).toBe(404);
      expect(created.body.error.code).toBe('project_not_found');
    } finally {
      release();
      spy.mockRestore();
    }
    const last = await lastKeySnapshots(infra.kafkaBrokers, identity.config.KAFKA_TOPIC_PREFIX);
    expect(last.get(held![0].keyId)?.projectDeleted).toBe(true);
  });

  it('a key without a key, with a malformed one or without the scope gets 401/403', async () => {
    expect((await identity.request('GET', '/v1/projects/default', undefined, null)).status).toBe(401);
    expect((await identity.request('GET', '/v1/projects/default', undefined, 'llmk_nope')).status).toBe(401);
    await createProject('scoped');
    const reader = await usableKey('scoped', { name: 'reader', scopes: ['prompts:read'] });
    expect((await identity.request('GET', '/v1/projects/scoped/keys', undefined, reader.key)).status).toBe(
      403,
    );
    const admin = await usableKey('scoped', { name: 'admin', scopes: ['admin'] });
    expect((await createProject('not-mine', admin.key)).status).toBe(403);
    expect((await identity.request('DELETE', '/v1/projects/scoped', undefined, admin.key)).status).toBe(403);
  });
});

describe('bad input', () => {
  it('answers 400 with the path of each problem', async () => {
    await createProject('inputs');
    const unknownScope = await createKey('inputs', { name: 'x', scopes: ['prompts:read', 'prompts:delete'] });
    expect(unknownScope.status).toBe(400);
    expect(issuePaths(unknownScope)).toEqual(['scopes.1']);

    const badAlias = await createKey('inputs', {
      name: 'x',
      scopes: ['prompts:promote'],
      aliases: ['Prod!'],
    });
    expect(badAlias.status).toBe(400);
    expect(issuePaths(badAlias)).toEqual(['aliases.0']);

    const aliasesWithoutPromote = await createKey('inputs', {
      name: 'x',
      scopes: ['prompts:read'],
      aliases: ['a'],
    });
    expect(aliasesWithoutPromote.status).toBe(400);
    expect(issuePaths(aliasesWithoutPromote)).toEqual(['aliases']);

    const past = await createKey('inputs', {
      name: 'x',
      scopes: ['admin'],
      expiresAt: '2020-01-01T00:00:00Z',
    });
    expect(past.status).toBe(400);
    expect(issuePaths(past)).toEqual(['expiresAt']);

    const unknownField = await createKey('inputs', { name: 'x', scopes: ['admin'], owner: 'me' });
    expect(issuePaths(unknownField)).toEqual(['owner']);

    const badId = await createProject('Not_A_Project');
    expect(badId.status).toBe(400);
    expect(issuePaths(badId)).toEqual(['id']);
    const badPath = await identity.request<ErrorBody>('GET', '/v1/projects/Not_A_Project');
    expect(badPath.status).toBe(400);
    expect(issuePaths(badPath)).toEqual(['project']);

    const future = await createKey('inputs', {
      name: 'expiring',
      scopes: ['admin'],
      expiresAt: '2099-01-01T00:00:00Z',
    });
    expect(future.status).toBe(201);
    expect(future.body.expiresAt).toBe('2099-01-01T00:00:00.000Z');
  });
});

describe('cross-project access', () => {
  it("answers another project's resources exactly like missing ones", async () => {
    await createProject('team-a');
    await createProject('team-b');
    const a = await usableKey('team-a', { name: 'a admin', scopes: ['admin'] });
    const bKey = await usableKey('team-b', { name: 'b key', scopes: ['ingest'] });

    const otherProject = await identity.request('GET', '/v1/projects/team-b', undefined, a.key);
    const missingProject = await identity.request('GET', '/v1/projects/team-zz', undefined, a.key);
    expect([otherProject.status, otherProject.body]).toEqual([
      404,
      {
        error: { code: 'project_not_found', message: 'No project "team-b".', details: { project: 'team-b' } },
      },
    ]);
    expect([missingProject.status, missingProject.body]).toEqual([
      404,
      {
        error: {
          code: 'project_not_found',
          message: 'No project "team-zz".',
          details: { project: 'team-zz' },
        },
      },
    ]);

    for (const [method, url, body] of [
      ['GET', '/v1/projects/team-b/keys', undefined],
      ['POST', '/v1/projects/team-b/keys', { name: 'sneaky', scopes: ['admin'] }],
      ['GET', `/v1/projects/team-b/keys/${bKey.keyId}`, undefined],
      ['DELETE', `/v1/projects/team-b/keys/${bKey.keyId}`, undefined],
      ['GET', '/v1/audit?project=team-b', undefined],
    ] as const) {
      const answer = await identity.request<ErrorBody>(method, url, body, a.key);
      expect({ url, method, status: answer.status, code: answer.body.error?.code }).toEqual({
        url,
        method,
        status: 404,
        code: 'project_not_found',
      });
    }
    // Another project's key through one's own project: the same 404 as an unknown key id.
    const foreignKey = await identity.request<ErrorBody>(
      'GET',
      `/v1/projects/team-a/keys/${bKey.keyId}`,
      undefined,
      a.key,
    );
    const unknownKey = await identity.request<ErrorBody>(
      'GET',
      '/v1/projects/team-a/keys/0123456789abcdef0123',
      undefined,
      a.key,
    );
    expect([foreignKey.status, foreignKey.body.error.code]).toEqual([404, 'key_not_found']);
    expect([unknownKey.status, unknownKey.body.error.code]).toEqual([404, 'key_not_found']);
    // The key of team-b still works: nothing was revoked through team-a.
    const b = await identity.request<KeyView>('GET', `/v1/projects/team-b/keys/${bKey.keyId}`);
    expect(b.body.revokedAt).toBeNull();
  });
});

describe('audit trail', () => {
  it("records the service's own changes with the key id as actor", async () => {
    await createProject('audited');
    const key = await usableKey('audited', { name: 'audited admin', scopes: ['admin'] });
    await identity.request('DELETE', `/v1/projects/audited/keys/${key.keyId}`);
    const page = await expectEventually(async () => {
      const answer = await identity.request<Page<AuditItem>>('GET', '/v1/audit?project=audited');
      expect(answer.body.items.map((i) => i.action)).toEqual([
        'key.revoked',
        'key.created',
        'project.created',
      ]);
      return answer.body;
    });
    expect(page.items.every((i) => i.actor === identity.admin.keyId && i.project === 'audited')).toBe(true);
    expect(page.items[0]).toMatchObject({ resource: key.keyId, source: '/llmops/identity' });
    expect(page.items[2]).toMatchObject({ resource: 'audited' });
  });

  it('a change whose audit event failed is recorded once by the retry (project, key, deletion)', async () => {
    const producer = identity.app.get(BatchingProducer);
    const send = producer.send.bind(producer);
    const auditTopic = topicName(TOPICS.audit, identity.config.KAFKA_TOPIC_PREFIX);
    /** The next send to the audit topic fails like a broker that does not acknowledge. */
    async function withAuditFailure(request: () => Promise<Answer<unknown>>): Promise<number> {
      let failed = false;
      const spy = jest.spyOn(producer, 'send').mockImplementation(async (topic, messages) => {
        if (topic !== auditTopic || failed) return send(topic, messages);
        failed = true;
        throw new KafkaUnavailableError();
      });
      try {
        return (await request()).status;
      } finally {
        spy.mockRestore();
      }
    }

    expect(await withAuditFailure(() => createProject('retried'))).toBe(503);
    expect((await createProject('retried')).status).toBe(409);
    const key = await usableKey('retried', { name: 'retried admin', scopes: ['admin'] });
    const revoke = () => identity.request('DELETE', `/v1/projects/retried/keys/${key.keyId}`);
    expect(await withAuditFailure(revoke)).toBe(503);
    expect((await revoke()).status).toBe(204);
    expect((await revoke()).status).toBe(204);
    const remove = () => identity.request('DELETE', '/v1/projects/retried');
    expect(await withAuditFailure(remove)).toBe(503);
    expect((await remove()).status).toBe(204);
    expect((await remove()).status).toBe(204);

    const items = await expectEventually(async () => {
      const answer = await identity.request<Page<AuditItem>>('GET', '/v1/audit?project=retried');
      expect(answer.body.items.map((i) => i.action)).toEqual([
        'project.deleted',
        'key.revoked',
        'key.created',
        'project.created',
      ]);
      return answer.body.items;
    });
    expect(items.every((i) => i.actor === identity.admin.keyId)).toBe(true);
    expect(items[1]).toMatchObject({ resource: key.keyId });
    const last = await lastKeySnapshots(infra.kafkaBrokers, identity.config.KAFKA_TOPIC_PREFIX);
    expect(last.get(key.keyId)).toMatchObject({ projectDeleted: true });
    expect(last.get(key.keyId)?.revokedAt).not.toBeNull();
  });

  it('stores each event once, pages newest first and filters by project, actor and time', async () => {
    const producer = identity.app.get(BatchingProducer);
    const topic = topicName(TOPICS.audit, identity.config.KAFKA_TOPIC_PREFIX);
    const times = ['2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z', '2026-01-03T00:00:00.000Z'];
    const events = [
      ...times.map((time, i) => ({ actor: 'aaaaaaaaaaaaaaaaaaaa', time, resource: `p${i}` })),
      ...times.map((time, i) => ({ actor: 'bbbbbbbbbbbbbbbbbbbb', time, resource: `q${i}` })),
    ].map(({ actor, time, resource }) => {
      const event = auditEvent(
        { keyId: actor, project: 'paging', scopes: new Set<Scope>() },
        { action: 'prompt.registered', resource },
        'registry',
      );
      return { ...event, time };
    });
    const messages = events.map((e) => ({ key: 'paging', value: JSON.stringify(e) }));
    // Sent twice: a redelivery must not store anything twice.
    await producer.send(topic, messages);
    await producer.send(topic, messages);
    await readTopicUntil(
      infra.kafkaBrokers,
      topic,
      (records) => records.filter((r) => r.key === 'paging').length >= 12,
    );

    const all = await expectEventually(async () => {
      const answer = await identity.request<Page<AuditItem>>('GET', '/v1/audit?project=paging&limit=200');
      expect(answer.body.items).toHaveLength(6);
      return answer.body.items;
    });
    expect(all.map((i) => i.time)).toEqual([...times, ...times].sort().reverse());

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const answer: Answer<Page<AuditItem>> = await identity.request<Page<AuditItem>>(
        'GET',
        `/v1/audit?project=paging&limit=4${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(answer.status).toBe(200);
      seen.push(...answer.body.items.map((i) => i.id));
      cursor = answer.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.map((i) => i.id));

    const byActor = await identity.request<Page<AuditItem>>(
      'GET',
      '/v1/audit?project=paging&actor=bbbbbbbbbbbbbbbbbbbb&since=2026-01-02T00:00:00Z&limit=1',
    );
    expect(byActor.body.items.map((i) => i.resource)).toEqual(['q2']);
    const next = await identity.request<Page<AuditItem>>(
      'GET',
      `/v1/audit?project=paging&actor=bbbbbbbbbbbbbbbbbbbb&since=2026-01-02T00:00:00Z&limit=1&cursor=${byActor.body.nextCursor}`,
    );
    expect(next.body.items.map((i) => i.resource)).toEqual(['q1']);
    expect(next.body.nextCursor).toBeNull();

    expect((await identity.request<ErrorBody>('GET', '/v1/audit?project=paging&cursor=junk')).status).toBe(
      400,
    );
    expect((await identity.request<ErrorBody>('GET', '/v1/audit?since=yesterday')).status).toBe(400);
  });

  it('keeps details whose names are not valid MongoDB field names, and the note', async () => {
    const details = { 'spec.model': 'gpt-4o-mini', $where: 1, ok: true, none: null };
    await identity.app
      .get(AuditTrail)
      .record(
        { keyId: 'cccccccccccccccccccc', project: 'details', scopes: new Set<Scope>() },
        { action: 'alias.moved', resource: 'summarizer/production', details, note: 'rollback' },
      );
    const item = await expectEventually(async () => {
      const answer = await identity.request<Page<AuditItem & { note?: string }>>(
        'GET',
        '/v1/audit?project=details',
      );
      expect(answer.body.items).toHaveLength(1);
      return answer.body.items[0];
    });
    expect(item).toMatchObject({
      action: 'alias.moved',
      details,
      note: 'rollback',
      actor: 'cccccccccccccccccccc',
    });
  });

  it("defaults to the key's own project", async () => {
    await createProject('own-trail');
    const key = await usableKey('own-trail', { name: 'own admin', scopes: ['admin'] });
    const page = await expectEventually(async () => {
      const answer = await identity.request<Page<AuditItem>>('GET', '/v1/audit', undefined, key.key);
      expect(answer.status).toBe(200);
      expect(answer.body.items.map((i) => i.action)).toEqual(['key.created', 'project.created']);
      return answer.body;
    });
    expect(page.items.every((i) => i.project === 'own-trail')).toBe(true);
  });
});

describe('OpenAPI', () => {
  it('documents every route with its key requirement in a valid OpenAPI 3.1 document', async () => {
    const doc = await identity.request<{
      openapi: string;
      paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>>;
    }>('GET', '/docs-json', undefined, null);
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(doc.body) as never);
    expect(result.valid ? [] : result.errors).toEqual([]);
    const operations = Object.entries(doc.body.paths)
      .filter(([path]) => path.startsWith('/v1/'))
      .flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, op })));
    expect(operations.map((o) => `${o.method.toUpperCase()} ${o.path}`).sort()).toEqual([
      'DELETE /v1/projects/{project}',
      'DELETE /v1/projects/{project}/keys/{keyId}',
      'GET /v1/audit',
      'GET /v1/projects/{project}',
      'GET /v1/projects/{project}/keys',
      'GET /v1/projects/{project}/keys/{keyId}',
      'POST /v1/projects',
      'POST /v1/projects/{project}/keys',
    ]);
    for (const { path, method, op } of operations) {
      expect({ path, method, security: op.security, has401: '401' in op.responses }).toEqual({
        path,
        method,
        security: [{ apiKey: [] }],
        has401: true,
      });
    }
  });
});
