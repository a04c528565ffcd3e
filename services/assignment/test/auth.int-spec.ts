/**
 * Keys and the audit trail (real Kafka, MongoDB and registry): 401 without a valid key, 403 for a
 * key without the route's scope (and for experiment changes that resolve prompt refs with a key
 * without `prompts:read`), and one audit event per change, with the key id as the actor.
 */
import { parseEvent, projectOf, TOPICS, topicName } from '@llmops/contracts';
import {
  expectEventually,
  issueTestKey,
  type IssuedTestKey,
  revokeTestKey,
  startTopicReader,
  testInfra,
  type TopicReader,
} from '@llmops/testing';
import { type AssignmentApp, startAssignmentApp } from './support/assignment-app';
import { type ArmSpec, registeredArms } from './support/fixtures';
import type { RegistryHandle } from './support/registry';
import { startTestRegistry } from './support/test-registry';

type ErrorBody = { error: { code: string; message: string; details?: Record<string, unknown> } };
type Audit = {
  project: string;
  actor: string;
  action: string;
  resource: string;
  details?: Record<string, unknown>;
};

describe('API keys and audit', () => {
  const infra = testInfra();
  let registry: RegistryHandle;
  let app: AssignmentApp;
  let arms: ArmSpec[];
  let audit: TopicReader;

  beforeAll(async () => {
    registry = await startTestRegistry(infra);
    app = await startAssignmentApp(infra, { REGISTRY_URL: registry.url });
    arms = await registeredArms(registry, 'keyed', [
      ['A', 1],
      ['B', 1],
    ]);
    const created = await app.request('POST', '/v1/experiments', { key: 'keyed', arms });
    expect(created.status).toBe(201);
    audit = await startTopicReader(infra.kafkaBrokers, topicName(TOPICS.audit, infra.topicPrefix));
  }, 120_000);

  afterAll(async () => {
    await audit?.stop();
    await app?.close();
    await registry?.stop();
  });

  const routes: Array<[method: 'GET' | 'POST', url: string, body?: unknown]> = [
    ['POST', '/v1/assign', { experiment: 'keyed', userId: 'u1' }],
    ['POST', '/v1/assign/batch', { items: [{ experiment: 'keyed', userId: 'u1' }] }],
    ['GET', '/v1/experiments'],
    ['GET', '/v1/experiments/keyed'],
    ['POST', '/v1/experiments/keyed/start'],
  ];

  it('answers 401 unauthenticated, with one body, without a key and with a malformed, unknown or revoked one', async () => {
    const unknown = `Bearer llmk_${'0'.repeat(20)}_${'A'.repeat(43)}`;
    const revoked = await app.issueKey({ name: 'to revoke' });
    await revokeTestKey({ kafkaBrokers: infra.kafkaBrokers, topicPrefix: infra.topicPrefix }, revoked);
    await expectEventually(async () =>
      expect((await app.request('GET', '/v1/experiments', undefined, revoked.header)).status).toBe(401),
    );
    const bodies = new Set<string>();
    for (const [method, url, body] of routes) {
      for (const authorization of [undefined, 'Bearer nope', unknown, revoked.header.authorization]) {
        const res = await app.request<ErrorBody>(method, url, body, { authorization });
        expect([url, authorization, res.status, res.body.error.code]).toEqual([
          url,
          authorization,
          401,
          'unauthenticated',
        ]);
        bodies.add(JSON.stringify(res.body));
      }
    }
    expect(bodies.size).toBe(1);
  });

  it("answers 403 forbidden for a key without the route's scope", async () => {
    const assignOnly = await app.issueKey({ name: 'assign only', scopes: ['assign'] });
    const readOnly = await app.issueKey({ name: 'read only', scopes: ['experiments:read'] });
    const forbidden = async (key: IssuedTestKey, method: 'GET' | 'POST', url: string, body?: unknown) => {
      const res = await app.request<ErrorBody>(method, url, body, key.header);
      expect([url, res.status, res.body.error.code]).toEqual([url, 403, 'forbidden']);
    };
    await forbidden(assignOnly, 'GET', '/v1/experiments');
    await forbidden(assignOnly, 'GET', '/v1/experiments/keyed');
    await forbidden(assignOnly, 'POST', '/v1/experiments/keyed/start');
    await forbidden(readOnly, 'POST', '/v1/assign', { experiment: 'keyed', userId: 'u1' });
    await forbidden(readOnly, 'POST', '/v1/assign/batch', { items: [{ experiment: 'keyed', userId: 'u1' }] });
    await forbidden(readOnly, 'POST', '/v1/experiments', { key: 'by-reader', arms });
    expect((await app.request('POST', '/v1/assign', routes[0][2], assignOnly.header)).status).toBe(200);
    expect((await app.request('GET', '/v1/experiments/keyed', undefined, readOnly.header)).status).toBe(200);
  });

  it("refuses arms with prompt refs from a key without 'prompts:read' (they resolve with the caller's key)", async () => {
    const writer = await app.issueKey({ name: 'writer', scopes: ['experiments:write'] });
    const res = await app.request<ErrorBody>(
      'POST',
      '/v1/experiments',
      { key: 'by-writer', arms },
      writer.header,
    );
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ code: 'forbidden', details: { missingScope: 'prompts:read' } });
    expect(res.body.error.message).toContain('prompts:read');
    // Changes that name no prompt ref need only experiments:write.
    const patched = await app.request('PATCH', '/v1/experiments/keyed', { description: 'd' }, writer.header);
    expect(patched.status).toBe(200);
  });

  it('records one audit event per change, with the key id as the actor, in the key’s project', async () => {
    const key = await app.issueKey({
      project: 'team-audit',
      name: 'experimenter',
      scopes: ['experiments:read', 'experiments:write', 'prompts:read'],
    });
    const author = await app.issueKey({ project: 'team-audit', name: 'author', scopes: ['prompts:write'] });
    const own = await registeredArms(
      registry,
      'audited',
      [
        ['A', 1],
        ['B', 1],
      ],
      author,
    );
    const steps: Array<[method: 'POST' | 'PATCH', url: string, body?: unknown]> = [
      ['POST', '/v1/experiments', { key: 'audited', arms: own }],
      ['PATCH', '/v1/experiments/audited', { description: 'first run' }],
      ['POST', '/v1/experiments/audited/start'],
      ['POST', '/v1/experiments/audited/start'], // no change: no audit event
      ['POST', '/v1/experiments/audited/pause'],
      ['POST', '/v1/experiments/audited/start'],
      ['POST', '/v1/experiments/audited/phases', {}],
      ['POST', '/v1/experiments/audited/stop'],
    ];
    for (const [method, url, body] of steps) {
      const res = await app.request(method, url, body, key.header);
      expect([url, res.status]).toEqual([
        url,
        url.endsWith('/experiments') || url.endsWith('/phases') ? 201 : 200,
      ]);
    }
    await expectEventually(() => {
      const trail = audit.records
        .map((r) => ({ key: r.key, event: parseEvent(r.value) }))
        .filter(({ event }) => projectOf(event) === 'team-audit');
      expect(trail.every(({ key }) => key === 'team-audit')).toBe(true);
      // The registry records the prompt registrations in the same trail.
      const data = trail.map(({ event }) => event.data as Audit).filter((d) => d.resource === 'audited');
      expect(data.map((d) => [d.action, d.actor, d.project, d.resource, d.details?.revision])).toEqual([
        ['experiment.created', key.keyId, 'team-audit', 'audited', 1],
        ['experiment.updated', key.keyId, 'team-audit', 'audited', 2],
        ['experiment.started', key.keyId, 'team-audit', 'audited', 3],
        ['experiment.paused', key.keyId, 'team-audit', 'audited', 4],
        ['experiment.started', key.keyId, 'team-audit', 'audited', 5],
        ['experiment.phase-started', key.keyId, 'team-audit', 'audited', 6],
        ['experiment.stopped', key.keyId, 'team-audit', 'audited', 7],
      ]);
      expect(data[1].details).toMatchObject({ changes: 'description' });
      expect(data[4].details).toMatchObject({ previousStatus: 'paused', status: 'running' });
      expect(data[5].details).toMatchObject({ phase: 2 });
    });
  });

  it('expired keys answer 401 too', async () => {
    const expired = await issueTestKey(
      { kafkaBrokers: infra.kafkaBrokers, topicPrefix: infra.topicPrefix },
      { name: 'expired', expiresAt: new Date(Date.now() - 1_000) },
    );
    await expectEventually(async () => {
      const res = await app.request<ErrorBody>('POST', '/v1/assign', routes[0][2], expired.header);
      expect([res.status, res.body.error.code]).toEqual([401, 'unauthenticated']);
    });
  });
});
