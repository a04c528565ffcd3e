import { AuditTrail, type Principal, type RequestContext } from '@llmops/platform';
import { Injectable } from '@nestjs/common';
import { ApiKeyRepository } from '../persistence/api-key.repository';
import { KeyPublisher } from './key-publisher';
import { ProjectAccess } from './project-access';
import { KeyNotFoundError } from './projects.errors';

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
   * it). Idempotent: revoking again republishes, so a retry after a broker failure completes the
   * job, and records no second audit event.
   */
  async execute(principal: Principal, project: string, keyId: string, ctx: RequestContext): Promise<void> {
    await this.access.administered(principal, project);
    const result = await this.keys.revoke(project, keyId, new Date());
    if (!result) throw new KeyNotFoundError(project, keyId);
    await this.publisher.publish([result.key], () => false, ctx);
    if (result.revoked) {
      await this.audit.record(
        { ...principal, project },
        { action: 'key.revoked', resource: keyId, details: { name: result.key.name } },
        ctx,
      );
    }
  }
}
