import { MONGO_CONNECTION } from '@llmops/platform';
import { Inject, Injectable } from '@nestjs/common';
import type { Connection, mongo } from 'mongoose';
import type { AliasMove } from '../domain/prompt-version';
import { ALIAS_MOVE_INDEXES, ALIAS_MOVES_COLLECTION, type AliasMoveDocument } from './alias-move.schema';
import { isDuplicateKeyError } from './mongo-errors';
import { db, ensureIndexes } from './mongo-indexes';
import {
  markPublished,
  findPendingEntries,
  type OutboxEntry,
  type OutboxFailure,
  pendingOrWaiting,
  recordFailures,
} from './outbox-state';

export type NewAliasMove = Omit<AliasMoveDocument, '_id' | 'published' | 'publishedAt'>;

export interface UnpublishedAliasMove extends AliasMove {
  readonly id: string;
  readonly correlationId?: string;
  readonly traceparent?: string;
}

function toAliasMove(d: AliasMoveDocument): AliasMove {
  return {
    name: d.name,
    alias: d.alias,
    rev: d.rev,
    from: d.from,
    fromVersion: d.fromVersion,
    to: d.to,
    toVersion: d.toVersion,
    actor: d.actor,
    movedAt: d.movedAt.toISOString(),
  };
}

@Injectable()
export class AliasMoveRepository {
  constructor(@Inject(MONGO_CONNECTION) private readonly connection: Connection) {}

  private get moves(): mongo.Collection<AliasMoveDocument> {
    return db(this.connection).collection<AliasMoveDocument>(ALIAS_MOVES_COLLECTION);
  }

  async ensureIndexes(): Promise<void> {
    await ensureIndexes(this.moves, ALIAS_MOVE_INDEXES);
  }

  /** The alias's current target: its move with the highest rev. */
  async current(name: string, alias: string): Promise<AliasMove | null> {
    const [doc] = await this.moves.find({ name, alias }).sort({ rev: -1 }).limit(1).toArray();
    return doc ? toAliasMove(doc) : null;
  }

  /** The compare-and-set: 'conflict' when another move already took `move.rev`. */
  async insert(move: NewAliasMove): Promise<'inserted' | 'conflict'> {
    try {
      await this.moves.insertOne({
        ...move,
        _id: `${move.name}/${move.alias}/${move.rev}`,
        published: false,
      });
      return 'inserted';
    } catch (err) {
      if (isDuplicateKeyError(err)) return 'conflict';
      throw err;
    }
  }

  /** Newest first; `beforeRev` = only older moves. */
  async history(name: string, alias: string, limit: number, beforeRev?: number): Promise<AliasMove[]> {
    const filter = beforeRev === undefined ? { name, alias } : { name, alias, rev: { $lt: beforeRev } };
    const docs = await this.moves.find(filter).sort({ rev: -1 }).limit(limit).toArray();
    return docs.map(toAliasMove);
  }

  /** Pending outbox records whose backoff has passed, oldest first per alias. */
  findUnpublished(limit: number, now = new Date()): Promise<OutboxEntry<UnpublishedAliasMove>[]> {
    return findPendingEntries(this.moves, limit, now, toAliasMove, (a, b) =>
      a.name === b.name && a.alias === b.alias ? a.rev - b.rev : a.movedAt.localeCompare(b.movedAt),
    );
  }

  async countUnpublished(): Promise<number> {
    return this.moves.countDocuments(pendingOrWaiting());
  }

  async markPublished(ids: string[]): Promise<void> {
    await markPublished(this.moves, ids);
  }

  /** Backoff, or quarantine, for records that failed to publish for a reason of their own. */
  async recordFailures(failures: readonly OutboxFailure[]): Promise<void> {
    await recordFailures(this.moves, failures);
  }
}
