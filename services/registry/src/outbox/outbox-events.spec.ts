import type { UnpublishedAliasMove } from '../persistence/alias-move.repository';
import type { UnpublishedVersion } from '../persistence/prompt-version.repository';
import {
  aliasMoveAuditMessage,
  aliasMoveMessage,
  EventNotPublishableError,
  publishableMessage,
  versionAuditMessage,
  versionMessage,
} from './outbox-events';

const HASH = 'ab'.repeat(32);

const version = (over: Partial<UnpublishedVersion> = {}): UnpublishedVersion => ({
  id: `p/${HASH}`,
  project: 'default',
  name: 'p',
  hash: HASH,
  shortHash: HASH.slice(0, 12),
  version: 1,
  spec: { template: 'Hi {x}', model: 'm' },
  createdAt: '2026-01-01T00:00:00.000Z',
  ...over,
});

const move = (over: Partial<UnpublishedAliasMove> = {}): UnpublishedAliasMove => ({
  id: 'p/production/2',
  project: 'default',
  name: 'p',
  alias: 'production',
  rev: 2,
  from: 'cd'.repeat(32),
  fromVersion: 1,
  to: HASH,
  toVersion: 2,
  actor: '0123456789abcdef0123',
  movedAt: '2026-01-01T00:00:01.000Z',
  ...over,
});

const valueOf = (message: { value: string | Buffer } | null) =>
  JSON.parse(String(message?.value)) as Record<string, unknown> & { data: Record<string, unknown> };

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (err) {
    return err;
  }
  throw new Error('did not throw');
}

describe('publishableMessage', () => {
  it('returns the message of a record that passes its contract and fits', () => {
    const message = publishableMessage(version(), versionMessage, 64 * 1024);
    expect(message.key).toBe('p');
    expect(JSON.parse(String(message.value))).toMatchObject({
      id: `prompt-version/p/${HASH}`,
      data: { hash: HASH },
    });
  });

  it('refuses a record that fails the event contract, with the contract issues', () => {
    const err = thrown(() => publishableMessage(version({ hash: 'nope' }), versionMessage, 64 * 1024));
    expect(err).toBeInstanceOf(EventNotPublishableError);
    expect(err).toMatchObject({
      reason: 'contract',
      issues: expect.arrayContaining([expect.objectContaining({ path: 'data.hash' })]),
    });
  });

  it('refuses a record whose serialized event is over the limit', () => {
    const spec = { template: 'x'.repeat(2_000), model: 'm' };
    const err = thrown(() => publishableMessage(version({ spec }), versionMessage, 1_024));
    expect(err).toMatchObject({ reason: 'too_large', bytes: expect.any(Number) });
    expect((err as EventNotPublishableError).bytes).toBeGreaterThan(2_000);
  });

  it('refuses a record too deep to validate or serialize (stack overflow)', () => {
    const err = thrown(() =>
      publishableMessage(
        version(),
        () => {
          throw new RangeError('Maximum call stack size exceeded');
        },
        1_024,
      ),
    );
    expect(err).toMatchObject({ reason: 'too_deep' });
  });

  it('lets other errors through', () => {
    const boom = new Error('boom');
    expect(
      thrown(() =>
        publishableMessage(
          version(),
          () => {
            throw boom;
          },
          1_024,
        ),
      ),
    ).toBe(boom);
  });
});

describe('events of a project', () => {
  it('keep the ids they had before projects in project default, and carry the project', () => {
    const event = valueOf(versionMessage(version()));
    expect(event.id).toBe(`prompt-version/p/${HASH}`);
    expect(event.project).toBe('default');
  });

  it('put the project into the ids of every other project, so two projects never share an id', () => {
    const v = valueOf(versionMessage(version({ project: 'team-a' })));
    expect(v).toMatchObject({ id: `prompt-version/team-a/p/${HASH}`, project: 'team-a' });
    const m = aliasMoveMessage(move({ project: 'team-a' }));
    expect(m.key).toBe('p');
    expect(valueOf(m)).toMatchObject({ id: 'prompt-alias/team-a/p/production/2', project: 'team-a' });
  });
});

describe('audit records', () => {
  it('prompt.registered: actor = the key id, a deterministic id and the time of the registration', () => {
    const message = versionAuditMessage(version({ project: 'team-a', actor: 'k1' }));
    expect(message?.key).toBe('team-a');
    expect(valueOf(message)).toMatchObject({
      id: `audit/prompt-version/team-a/p/${HASH}`,
      type: 'io.llmops.audit.recorded.v1',
      source: '/llmops/registry',
      time: '2026-01-01T00:00:00.000Z',
      project: 'team-a',
      data: {
        project: 'team-a',
        actor: 'k1',
        action: 'prompt.registered',
        resource: `p@${HASH}`,
        details: { version: 1 },
      },
    });
    expect(String(message?.value)).toBe(
      String(versionAuditMessage(version({ project: 'team-a', actor: 'k1' }))?.value),
    );
  });

  it('alias.moved: what moved where, and the note', () => {
    const message = aliasMoveAuditMessage(move({ note: 'release 7' }));
    expect(valueOf(message)).toMatchObject({
      id: 'audit/prompt-alias/p/production/2',
      time: '2026-01-01T00:00:01.000Z',
      data: {
        project: 'default',
        actor: '0123456789abcdef0123',
        action: 'alias.moved',
        resource: 'p/production',
        details: { rev: 2, from: 'cd'.repeat(32), to: HASH, toVersion: 2 },
        note: 'release 7',
      },
    });
  });

  it('none for changes recorded before API keys', () => {
    expect(versionAuditMessage(version())).toBeNull();
    expect(aliasMoveAuditMessage(move({ actor: 'unauthenticated' }))).toBeNull();
    expect(publishableMessage(version(), versionAuditMessage, 1_024)).toBeNull();
  });
});
