/**
 * At boot, before the service is ready: the `default` project exists (everything written before
 * projects belongs to it), the configured admin key (LLMOPS_ADMIN_KEY) is stored with every scope in
 * `default` plus `platform:admin`, and every stored key is published again, so a new or wiped apiKeys
 * topic is refilled from the store, dead keys (revoked, or of a deleted project) last. Republishing
 * is idempotent (whole snapshots, compacted by key id).
 */
import { DEFAULT_PROJECT, SCOPES } from '@llmops/contracts';
import { hashKeySecret, parseApiKey } from '@llmops/hashing';
import { AuditTrail, LOGGER, SERVICE_CONFIG } from '@llmops/platform';
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import type { IdentityConfig } from '../config/identity.config';
import { ApiKeyRepository } from '../persistence/api-key.repository';
import { ProjectRepository } from '../persistence/project.repository';
import { KeyPublisher } from './key-publisher';

/** The actor of what the identity service does on its own. */
export const SYSTEM_ACTOR = 'system:identity';

@Injectable()
export class IdentityBootstrap implements OnApplicationBootstrap {
  constructor(
    private readonly projects: ProjectRepository,
    private readonly keys: ApiKeyRepository,
    private readonly publisher: KeyPublisher,
    private readonly audit: AuditTrail,
    @Inject(SERVICE_CONFIG) private readonly config: IdentityConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Runs after the platform's bootstrap (its producer is connected: the platform module is global). */
  async onApplicationBootstrap(): Promise<void> {
    const now = new Date();
    await this.projects.ensure(DEFAULT_PROJECT, SYSTEM_ACTOR, now);
    const adminKey = this.config.LLMOPS_ADMIN_KEY && parseApiKey(this.config.LLMOPS_ADMIN_KEY);
    if (adminKey) {
      const { created } = await this.keys.upsertBootstrap({
        keyId: adminKey.keyId,
        project: DEFAULT_PROJECT,
        name: 'bootstrap admin (LLMOPS_ADMIN_KEY)',
        scopes: [...SCOPES],
        secretHash: hashKeySecret(adminKey.secret, this.config.LLMOPS_KEY_PEPPER),
        createdAt: now.toISOString(),
        createdBy: SYSTEM_ACTOR,
        expiresAt: null,
      });
      if (created) {
        await this.audit.record(
          { system: 'identity', project: DEFAULT_PROJECT },
          { action: 'key.created', resource: adminKey.keyId, details: { name: 'LLMOPS_ADMIN_KEY' } },
        );
      }
      this.logger.info({ keyId: adminKey.keyId, created }, 'bootstrap admin key stored');
    }
    let published = 0;
    for await (const page of this.keys.all()) {
      const deleted = await this.projects.deletedIds();
      await this.publisher.publish(page, (project) => deleted.has(project));
      published += page.length;
    }
    // A key another replica revoked (or whose project it deleted) after a page above was read may
    // have its dead snapshot overtaken by that page's older live one. So every dead key goes out
    // once more, read after the loop: the last snapshot of a dead key on the topic is dead. A key
    // that dies after this read gets its dead snapshot from that change, after this replica's.
    const deleted = await this.projects.deletedIds();
    let dead = 0;
    for await (const page of this.keys.dead(deleted)) {
      await this.publisher.publish(page, (project) => deleted.has(project));
      dead += page.length;
    }
    this.logger.info({ keys: published, dead }, 'every stored API key republished');
  }
}
