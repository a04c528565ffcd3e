import { generateApiKey, hashKeySecret } from '@llmops/hashing';
import {
  AuditTrail,
  ForbiddenError,
  type Principal,
  type RequestContext,
  SERVICE_CONFIG,
  ValidationFailedError,
} from '@llmops/platform';
import { Inject, Injectable } from '@nestjs/common';
import type { IdentityConfig } from '../config/identity.config';
import { ApiKeyRepository } from '../persistence/api-key.repository';
import { ProjectRepository } from '../persistence/project.repository';
import type { CreateKeyRequest } from './dto/create-key.request';
import { type CreatedKeyResponse } from './dto/key.response';
import { KeyPublisher } from './key-publisher';
import { isPlatformAdmin, ProjectAccess } from './project-access';
import { ProjectNotFoundError } from './projects.errors';

@Injectable()
export class CreateKeyUseCase {
  constructor(
    private readonly access: ProjectAccess,
    private readonly keys: ApiKeyRepository,
    private readonly projects: ProjectRepository,
    private readonly publisher: KeyPublisher,
    private readonly audit: AuditTrail,
    @Inject(SERVICE_CONFIG) private readonly config: IdentityConfig,
  ) {}

  /**
   * Issues a key: stores the peppered hash of a fresh secret, publishes the key's snapshot and waits
   * for Kafka's acknowledgement, records the audit event, and returns the plain key (its only
   * appearance). A broker failure answers 503; the stored key is then unusable (nobody has its
   * secret) and harmless.
   */
  async execute(
    principal: Principal,
    project: string,
    request: CreateKeyRequest,
    ctx: RequestContext,
    now = new Date(),
  ): Promise<CreatedKeyResponse> {
    await this.access.administered(principal, project);
    const scopes = [...new Set(request.scopes)].sort();
    checkRules(request, scopes, now);
    if (scopes.includes('platform:admin') && !isPlatformAdmin(principal)) {
      throw new ForbiddenError('Only a platform:admin key may create a key with platform:admin.');
    }
    const { key, keyId, secret } = generateApiKey();
    const stored = await this.keys.insert({
      keyId,
      project,
      name: request.name,
      scopes,
      ...(request.aliases ? { aliases: [...new Set(request.aliases)] } : {}),
      secretHash: hashKeySecret(secret, this.config.LLMOPS_KEY_PEPPER),
      createdAt: now.toISOString(),
      createdBy: principal.keyId,
      expiresAt: request.expiresAt ? new Date(request.expiresAt).toISOString() : null,
    });
    await this.publisher.publish([stored], () => false, ctx);
    // A deletion of the project since the access check may have republished its keys before this
    // one was stored or before its snapshot above: the key is sent again as deleted, and the answer
    // is that of a missing project (nobody ever sees its secret).
    const current = await this.projects.find(project);
    if (!current || current.deletedAt !== null) {
      await this.publisher.publish([stored], () => true, ctx);
      throw new ProjectNotFoundError(project);
    }
    await this.audit.record(
      { ...principal, project },
      {
        action: 'key.created',
        resource: keyId,
        details: { name: stored.name, scopes: scopes.join(' '), expiresAt: stored.expiresAt },
      },
      ctx,
    );
    return {
      key,
      keyId,
      project,
      name: stored.name,
      scopes,
      aliases: stored.aliases ?? null,
      expiresAt: stored.expiresAt,
      createdAt: stored.createdAt,
    };
  }
}

/** Rules across fields: 400 with the path of each problem. */
function checkRules(request: CreateKeyRequest, scopes: string[], now: Date): void {
  const issues = [];
  if (request.aliases && !scopes.includes('prompts:promote')) {
    issues.push({
      path: 'aliases',
      message: 'aliases limit prompts:promote, which the key does not have: add the scope or omit aliases',
    });
  }
  if (request.expiresAt && Date.parse(request.expiresAt) <= now.getTime()) {
    issues.push({ path: 'expiresAt', message: 'expected an instant in the future' });
  }
  if (issues.length > 0) throw new ValidationFailedError(issues);
}
