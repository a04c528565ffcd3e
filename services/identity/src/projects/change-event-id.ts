import type { AuditAction } from '@llmops/contracts';
import { v5 } from 'uuid';

const NAMESPACE = 'c4cb0229-e1cd-459f-b745-ea72551b2097';

/**
 * The audit event id of a change that happens once (a project's creation or deletion, a key's
 * revocation): every attempt to record it sends the same event, which the trail stores once.
 */
export function changeEventId(action: AuditAction, resource: string): string {
  return v5(`${action}:${resource}`, NAMESPACE);
}
