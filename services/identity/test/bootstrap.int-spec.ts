/**
 * Boot of the identity service against real Kafka and MongoDB: the operator's LLMOPS_ADMIN_KEY
 * becomes a working platform:admin key of `default`, and every stored key is published again, so
 * an empty apiKeys topic (a new cluster, a wiped topic) is refilled from the store.
 */
import { generateApiKey } from '@llmops/hashing';
import { KeyDirectory } from '@llmops/platform';
import { expectEventually, testInfra } from '@llmops/testing';
import { ApiKeyRepository } from '../src/persistence/api-key.repository';
import { SYSTEM_ACTOR } from '../src/projects/identity-bootstrap';
import { KeyPublisher } from '../src/projects/key-publisher';
import { type IdentityTestApp, startIdentity } from './support/identity-app';
import { lastKeySnapshots } from './support/key-topic';

interface AuditItem {
  actor: string;
  action: string;
  resource: string;
}

const infra = testInfra();
const bootstrap = generateApiKey();
let first: IdentityTestApp | undefined;
let second: IdentityTestApp | undefined;
let third: IdentityTestApp | undefined;

afterAll(async () => {
  await first?.close();
  await second?.close();
  await third?.close();
});

describe('boot', () => {
  it('stores LLMOPS_ADMIN_KEY as a platform:admin key of default and records its creation', async () => {
    first = await startIdentity(infra, { LLMOPS_ADMIN_KEY: bootstrap.key });
    await first.app.get(KeyDirectory).waitFor(bootstrap.keyId);

    const project = await first.request('GET', '/v1/projects/default', undefined, bootstrap.key);
    expect(project.status).toBe(200);
    expect(project.body).toMatchObject({ id: 'default', createdBy: 'system:identity' });
    expect((await first.request('POST', '/v1/projects', { id: 'ops' }, bootstrap.key)).status).toBe(201);
    const key = await first.request<{ scopes: string[]; project: string }>(
      'GET',
      `/v1/projects/default/keys/${bootstrap.keyId}`,
      undefined,
      bootstrap.key,
    );
    expect(key.body.project).toBe('default');
    expect(key.body.scopes).toContain('platform:admin');
    expect(key.body.scopes).toContain('admin');

    await expectEventually(async () => {
      const answer = await first!.request<{ items: AuditItem[] }>('GET', '/v1/audit?project=default');
      expect(answer.body.items).toContainEqual(
        expect.objectContaining({
          actor: 'system:identity',
          action: 'key.created',
          resource: bootstrap.keyId,
        }),
      );
    });
  });

  it('publishes every stored key again at boot: a new topic is refilled, revocations included', async () => {
    const live = await first!.request<{ key: string; keyId: string }>('POST', '/v1/projects/ops/keys', {
      name: 'live',
      scopes: ['admin'],
    });
    const revoked = await first!.request<{ key: string; keyId: string }>('POST', '/v1/projects/ops/keys', {
      name: 'revoked',
      scopes: ['admin'],
    });
    expect((await first!.request('DELETE', `/v1/projects/ops/keys/${revoked.body.keyId}`)).status).toBe(204);
    await first!.close();
    first = undefined;

    // Same database, a topic prefix nobody has written to: only the boot republication can fill it.
    second = await startIdentity(infra, {
      LLMOPS_ADMIN_KEY: bootstrap.key,
      KAFKA_TOPIC_PREFIX: `${infra.topicPrefix}refill.`,
      IDENTITY_AUDIT_CONSUMER_GROUP: `${infra.id}-audit-refill`,
    });
    const directory = second.app.get(KeyDirectory);
    await directory.waitFor(live.body.keyId);
    await directory.waitFor(revoked.body.keyId);
    await expectEventually(async () => {
      expect((await second!.request('GET', '/v1/projects/ops', undefined, live.body.key)).status).toBe(200);
    });
    expect((await second.request('GET', '/v1/projects/ops', undefined, revoked.body.key)).status).toBe(401);
    expect((await second.request('GET', '/v1/projects/ops', undefined, bootstrap.key)).status).toBe(200);
  });

  it('a key revoked, or a project deleted, by another replica during the boot stays dead on the topic', async () => {
    const prefix = `${infra.topicPrefix}refill.`;
    const revoked = await second!.request<{ keyId: string }>('POST', '/v1/projects/ops/keys', {
      name: 'revoked during a boot',
      scopes: ['admin'],
    });
    expect((await second!.request('POST', '/v1/projects', { id: 'doomed' })).status).toBe(201);
    const orphan = await second!.request<{ keyId: string }>('POST', '/v1/projects/doomed/keys', {
      name: 'of a project deleted during a boot',
      scopes: ['admin'],
    });

    // Another replica boots; its republication of the stored keys is held after it read them.
    let holding = false;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const booting = startIdentity(
      infra,
      {
        LLMOPS_ADMIN_KEY: bootstrap.key,
        KAFKA_TOPIC_PREFIX: prefix,
        IDENTITY_AUDIT_CONSUMER_GROUP: `${infra.id}-audit-refill`,
      },
      (app) => {
        const publisher = app.get(KeyPublisher);
        const publish = publisher.publish.bind(publisher);
        jest.spyOn(publisher, 'publish').mockImplementationOnce(async (...args) => {
          holding = true;
          await released;
          return publish(...args);
        });
      },
    );
    await expectEventually(() => expect(holding).toBe(true));
    expect((await second!.request('DELETE', `/v1/projects/ops/keys/${revoked.body.keyId}`)).status).toBe(204);
    expect((await second!.request('DELETE', '/v1/projects/doomed')).status).toBe(204);
    release();
    third = await booting;

    const last = await lastKeySnapshots(infra.kafkaBrokers, prefix);
    expect(last.get(revoked.body.keyId)?.revokedAt).not.toBeNull();
    expect(last.get(orphan.body.keyId)?.projectDeleted).toBe(true);
  });

  it('never turns a key issued through the API into the bootstrap admin key', async () => {
    const list = await second!.request<{ items: { keyId: string; name: string }[] }>(
      'GET',
      '/v1/projects/ops/keys',
    );
    const live = list.body.items.find((k) => k.name === 'live')!;
    const keys = second!.app.get(ApiKeyRepository);
    await expect(
      keys.upsertBootstrap({
        keyId: live.keyId,
        project: 'default',
        name: 'bootstrap admin (LLMOPS_ADMIN_KEY)',
        scopes: ['admin', 'platform:admin'],
        secretHash: 'x'.repeat(43),
        createdAt: new Date().toISOString(),
        createdBy: SYSTEM_ACTOR,
        expiresAt: null,
      }),
    ).rejects.toThrow(/issued through the API/);
    const unchanged = await second!.request<{ project: string; scopes: string[] }>(
      'GET',
      `/v1/projects/ops/keys/${live.keyId}`,
    );
    expect(unchanged.body).toMatchObject({ project: 'ops', scopes: ['admin'] });
  });
});
