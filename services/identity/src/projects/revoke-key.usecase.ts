import { AuditTrail, type Principal, type RequestContext } from '@llmops/platform';
import { Injectable } from '@nestjs/common';
import { ApiKeyRepository } from '../persistence/api-key.repository';
import { KeyPublisher } from './key-publisher';
import { ProjectAccess } from './project-access';
import { KeyNotFoundError } from './projects.errors';
import { changeEventId } from './change-event-id';

@Injectable()
export class RevokeKeyUseCase {
  constructor(
    private readonly access: ProjectAccess,
    private readonly keys: ApiKeyRepository,
    private readonly publisher: KeyPublisher,
    private readonly audit: AuditTrail,
  ) {}

  /**
   * Marks the key revoked and publishes its snapshot (awaited: a 204 means every service will drop
   * it), then records the audit event unless that was done. Idempotent: revoking again republishes
   * and sends a still pending audit event (its id derives from the key, so it is stored once), so a
   * retry after a broker failure completes the job.
   */
  async execute(principal: Principal, project: string, keyId: string, ctx: RequestContext): Promise<void> {
    await this.access.administered(principal, project);
    const key = await this.keys.revoke(project, keyId, new Date());
    if (!key) throw new KeyNotFoundError(project, keyId);
    await this.publisher.publish([key], () => false, ctx);
    if (!key.revokeAudited) {
      await this.audit.record(
        { ...principal, project },
        { action: 'key.revoked', resource: keyId, details: { name: key.name } },
        ctx,
        { id: changeEventId('key.revoked', keyId), time: key.revokedAt ?? undefined },
      );
      await this.keys.markRevokeAudited(keyId);
    }
  }
}
