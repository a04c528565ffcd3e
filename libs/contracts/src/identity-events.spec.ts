import {
  AUDIT_ACTIONS,
  createEvent,
  EVENT_CATALOG,
  EVENT_SOURCES,
  EVENT_TYPES,
  isScope,
  parseEvent,
  partitionKeyFor,
  safeParseEvent,
  SCOPES,
  serializeEvent,
  topicForEventType,
  TOPIC_SPECS,
  TOPICS,
} from './index';
import { VALID_DATA } from '../test/support/fixtures';

const source = EVENT_SOURCES.identity;
const KEY = VALID_DATA[EVENT_TYPES.apiKeyUpdated];
const AUDIT = VALID_DATA[EVENT_TYPES.auditRecorded];

function issuesOf(type: typeof EVENT_TYPES.apiKeyUpdated | typeof EVENT_TYPES.auditRecorded, data: object) {
  const envelope = JSON.parse(
    serializeEvent(createEvent(type, VALID_DATA[type] as never, { source, project: 'checkout-team' })),
  ) as Record<string, unknown>;
  const result = safeParseEvent(JSON.stringify({ ...envelope, data }));
  return result.ok ? [] : [...new Set(result.error.issues.map((i) => i.path))];
}

describe('scopes and audit actions', () => {
  it('SCOPES lists every scope a route may require', () => {
    expect(SCOPES).toEqual([
      'prompts:read',
      'prompts:write',
      'prompts:promote',
      'experiments:read',
      'experiments:write',
      'assign',
      'ingest',
      'results:read',
      'datasets:read',
      'datasets:write',
      'admin',
      'platform:admin',
    ]);
    expect(isScope('prompts:promote')).toBe(true);
    for (const v of ['prompts', 'Prompts:read', 'admin ', undefined, 1]) expect(isScope(v)).toBe(false);
  });

  it('AUDIT_ACTIONS', () => {
    expect(AUDIT_ACTIONS).toEqual([
      'prompt.registered',
      'alias.moved',
      'alias.promotion-refused',
      'experiment.created',
      'experiment.updated',
      'experiment.started',
      'experiment.paused',
      'experiment.stopped',
      'experiment.phase-started',
      'key.created',
      'key.revoked',
      'project.created',
      'project.deleted',
      'dataset.created',
      'dataset.deleted',
      'dataset.snapshot-created',
    ]);
  });
});

describe('io.llmops.identity.api-key.updated.v1', () => {
  it('is published by identity on the compacted api-keys topic, keyed by keyId', () => {
    expect(topicForEventType(EVENT_TYPES.apiKeyUpdated)).toBe(TOPICS.apiKeys);
    expect(TOPICS.apiKeys).toBe('llmops.identity.api-keys.v1');
    expect(TOPIC_SPECS.find((t) => t.name === TOPICS.apiKeys)).toMatchObject({
      compacted: true,
      producer: 'identity',
      consumers: expect.arrayContaining(['registry', 'assignment', 'feedback', 'analytics', 'identity']),
    });
    expect(EVENT_CATALOG[EVENT_TYPES.apiKeyUpdated]).toMatchObject({
      producer: 'identity',
      source: '/llmops/identity',
    });
    expect(partitionKeyFor(EVENT_TYPES.apiKeyUpdated, KEY, 'other')).toBe('0123456789abcdef0123');
  });

  it('carries the full state: optional aliases (absent = any), nullable expiry and revocation', () => {
    const { aliases: _aliases, ...anyAlias } = KEY;
    const revoked = {
      ...anyAlias,
      expiresAt: '2026-01-01T00:00:00.000Z',
      revokedAt: '2025-06-01T00:00:00.000Z',
      projectDeleted: true,
    };
    const event = createEvent(EVENT_TYPES.apiKeyUpdated, revoked, { source, project: 'checkout-team' });
    expect(parseEvent(serializeEvent(event)).data).toEqual(revoked);
    expect(event.data).not.toHaveProperty('aliases');
  });

  it('accepts a scope this version does not know (it grants nothing), rejects malformed ones', () => {
    expect(issuesOf(EVENT_TYPES.apiKeyUpdated, { ...KEY, scopes: ['reports:read', 'assign'] })).toEqual([]);
    expect(issuesOf(EVENT_TYPES.apiKeyUpdated, { ...KEY, scopes: ['Admin', 'a b'] })).toEqual([
      'data.scopes.0',
      'data.scopes.1',
    ]);
  });

  it('rejects a malformed key id, secret hash, project, alias or a missing field', () => {
    expect(
      issuesOf(EVENT_TYPES.apiKeyUpdated, {
        ...KEY,
        keyId: 'llmk_0123',
        secretHash: 'short',
        project: 'Team',
        aliases: ['Production'],
      }).sort(),
    ).toEqual(['data.aliases.0', 'data.keyId', 'data.project', 'data.secretHash']);
    const { projectDeleted: _d, ...missing } = KEY;
    expect(issuesOf(EVENT_TYPES.apiKeyUpdated, missing)).toEqual(['data.projectDeleted']);
  });
});

describe('io.llmops.audit.recorded.v1', () => {
  it('is published by every service on the audit topic, keyed by project', () => {
    expect(topicForEventType(EVENT_TYPES.auditRecorded)).toBe(TOPICS.audit);
    expect(TOPICS.audit).toBe('llmops.audit.v1');
    expect(TOPIC_SPECS.find((t) => t.name === TOPICS.audit)).toMatchObject({
      compacted: false,
      producer: 'every service',
      consumers: ['identity'],
    });
    expect(partitionKeyFor(EVENT_TYPES.auditRecorded, AUDIT)).toBe('checkout-team');
  });

  it('every action, a system actor, no details and no note', () => {
    for (const action of AUDIT_ACTIONS) {
      const data = { project: 'default', actor: 'system:assignment', action, resource: 'checkout-copy.v2' };
      expect(
        parseEvent(serializeEvent(createEvent(EVENT_TYPES.auditRecorded, data, { source }))).data,
      ).toEqual(data);
    }
  });

  it('rejects an unknown action, nested details, a note over 256 characters', () => {
    expect(issuesOf(EVENT_TYPES.auditRecorded, { ...AUDIT, action: 'prompt.deleted' })).toEqual([
      'data.action',
    ]);
    expect(issuesOf(EVENT_TYPES.auditRecorded, { ...AUDIT, details: { arms: ['a', 'b'] } })).toEqual([
      'data.details.arms',
    ]);
    expect(issuesOf(EVENT_TYPES.auditRecorded, { ...AUDIT, note: 'x'.repeat(256) })).toEqual([]);
    expect(issuesOf(EVENT_TYPES.auditRecorded, { ...AUDIT, note: 'x'.repeat(257) })).toEqual(['data.note']);
    expect(issuesOf(EVENT_TYPES.auditRecorded, { ...AUDIT, resource: '' })).toEqual(['data.resource']);
  });
});
