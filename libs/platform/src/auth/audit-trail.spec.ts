import { auditEvent } from './audit-trail';

describe('auditEvent', () => {
  const entry = { action: 'experiment.stopped', resource: 'checkout' } as const;

  it('names the key, the platform or the decision that made the change', () => {
    const key = { keyId: 'k1', project: 'team-a', scopes: new Set<never>() };
    expect(auditEvent(key, entry, 'assignment').data.actor).toBe('k1');
    expect(auditEvent({ system: 'identity', project: 'team-a' }, entry, 'identity').data.actor).toBe(
      'system:identity',
    );
    const decision = auditEvent(
      { decision: 'e6c1d4d2-7c1f-5d1e-9a8b-0c2d4e6f8a10', project: 'team-a' },
      entry,
      'x',
    );
    expect(decision.data).toMatchObject({
      actor: 'decision:e6c1d4d2-7c1f-5d1e-9a8b-0c2d4e6f8a10',
      project: 'team-a',
    });
    expect(decision.project).toBe('team-a');
  });
});
