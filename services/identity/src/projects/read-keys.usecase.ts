import { decodeCursor, encodeCursor, type Principal } from '@llmops/platform';
import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { ApiKeyRepository } from '../persistence/api-key.repository';
import { type KeyListResponse, type KeyResponse, toKeyResponse } from './dto/key.response';
import { ProjectAccess } from './project-access';
import { KeyNotFoundError } from './projects.errors';

const cursorKey = z.string().regex(/^[0-9a-f]{20}$/);

@Injectable()
export class ReadKeysUseCase {
  constructor(
    private readonly access: ProjectAccess,
    private readonly keys: ApiKeyRepository,
  ) {}

  /** A project's keys by key id, revoked ones included (with revokedAt). */
  async list(
    principal: Principal,
    project: string,
    limit: number,
    cursor?: string,
  ): Promise<KeyListResponse> {
    await this.access.administered(principal, project);
    const after = decodeCursor(cursor, cursorKey);
    const page = await this.keys.list(project, limit + 1, after);
    const items = page.slice(0, limit);
    return {
      items: items.map(toKeyResponse),
      nextCursor: page.length > limit ? encodeCursor(items[items.length - 1].keyId) : null,
    };
  }

  async get(principal: Principal, project: string, keyId: string): Promise<KeyResponse> {
    await this.access.administered(principal, project);
    const key = await this.keys.find(project, keyId);
    if (!key) throw new KeyNotFoundError(project, keyId);
    return toKeyResponse(key);
  }
}
