import { Injectable } from '@nestjs/common';
import { decodeCursor, encodeCursor } from './cursor';
import { UNAUTHENTICATED_ACTOR } from '../domain/prompt-version';
import { LATEST_ALIAS } from '../domain/ref';
import type { AliasHistoryResponse } from './dto/version.response';
import { AliasMoveRepository } from '../persistence/alias-move.repository';
import { PromptVersionRepository } from '../persistence/prompt-version.repository';
import { AliasNotFoundError, PromptNotFoundError } from './prompts.errors';
import { assertPromptName } from './resolve-version.usecase';

type HistoryItem = AliasHistoryResponse['items'][number];

@Injectable()
export class ReadAliasesUseCase {
  constructor(
    private readonly moves: AliasMoveRepository,
    private readonly versions: PromptVersionRepository,
  ) {}

  /**
   * Every move, newest first. `latest` has no stored moves: each registration moved it, so its
   * history is derived from the versions (actor = the key that registered the version).
   */
  async history(
    project: string,
    name: string,
    alias: string,
    limit: number,
    cursor?: string,
  ): Promise<AliasHistoryResponse> {
    assertPromptName(name);
    const before = decodeCursor(cursor, 'number');
    let items: HistoryItem[];
    if (alias === LATEST_ALIAS) {
      // One extra version: the `from` of the oldest item on the page.
      const page = await this.versions.list(project, name, limit + 1, before);
      items = page.slice(0, limit).map((v, i) => {
        const previous = page[i + 1];
        return {
          rev: v.version,
          movedAt: v.createdAt,
          from: previous?.hash ?? null,
          fromVersion: previous?.version ?? null,
          to: v.hash,
          toVersion: v.version,
          actor: v.actor ?? UNAUTHENTICATED_ACTOR,
        };
      });
    } else {
      const moves = await this.moves.history(project, name, alias, limit, before);
      items = moves.map((m) => ({
        rev: m.rev,
        movedAt: m.movedAt,
        from: m.from,
        fromVersion: m.fromVersion,
        to: m.to,
        toVersion: m.toVersion,
        actor: m.actor,
        ...(m.note !== undefined ? { note: m.note } : {}),
      }));
    }
    if (items.length === 0 && before === undefined) {
      if ((await this.versions.latestNumber(project, name)) === 0) throw new PromptNotFoundError(name);
      throw new AliasNotFoundError(name, alias);
    }
    const last = items[items.length - 1];
    const nextCursor = items.length === limit && last && last.rev > 1 ? encodeCursor(last.rev) : null;
    return { name, alias, items, nextCursor };
  }
}
