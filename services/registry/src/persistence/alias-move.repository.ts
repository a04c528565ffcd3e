import { ensureIndexes, isDuplicateKey, requestCollection } from '@llmops/platform';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model, mongo } from 'mongoose';
import { DEFAULT_PROJECT } from '@llmops/contracts';
import { scopedId } from '../domain/project-scope';
import { type AliasMove, UNAUTHENTICATED_ACTOR } from '../domain/prompt-version';
import { AliasMoveDocument, OBSOLETE_ALIAS_MOVE_INDEXES } from './alias-move.schema';
import {
  markPublished,
  findPendingEntries,
  type OutboxEntry,
  type OutboxFailure,
  pendingOrWaiting,
  recordFailures,
} from './outbox-state';
import { adoptIntoDefaultProject } from './project-migration';

export type NewAliasMove = Omit<AliasMoveDocument, '_id' | 'published' | 'publishedAt'>;

/** A move whose rev and origin the compare-and-set fills in from the alias's current target. */
export type ConditionalAliasMove = Omit<NewAliasMove, 'rev' | 'from' | 'fromVersion'>;

/**
 * What `compareAndMove` did: moved the alias (`move` is the new log entry), found it already at
 * the target, or refused because it points elsewhere than expected (`current`: where it points).
 */
export type CompareAndMoveResult =
  | { readonly outcome: 'moved'; readonly move: NewAliasMove }
  | { readonly outcome: 'unchanged'; readonly current: AliasMove }
  | { readonly outcome: 'refused'; readonly current: AliasMove | null };

/** Lost races in a row after which `compareAndMove` gives up (each one means the alias moved). */
const MAX_CAS_ATTEMPTS = 50;

export interface UnpublishedAliasMove extends AliasMove {
  readonly id: string;
  readonly correlationId?: string;
  readonly traceparent?: string;
}

function toAliasMove(d: AliasMoveDocument): AliasMove {
  return {
    // Only a document written by the previous version of this service after the migration lacks it.
    project: d.project ?? DEFAULT_PROJECT,
    name: d.name,
    alias: d.alias,
    rev: d.rev,
    from: d.from,
    fromVersion: d.fromVersion,
    to: d.to,
    toVersion: d.toVersion,
    actor: d.actor ?? UNAUTHENTICATED_ACTOR,
    ...(d.note !== undefined ? { note: d.note } : {}),
    movedAt: d.movedAt.toISOString(),
  };
}

@Injectable()
export class AliasMoveRepository implements OnModuleInit {
  /** Request paths: every operation has the operation deadline. */
  private readonly moves: mongo.Collection<AliasMoveDocument>;

  constructor(@InjectModel(AliasMoveDocument.name) private readonly model: Model<AliasMoveDocument>) {
    this.moves = requestCollection(model);
  }

  /**
   * The unique index is the alias compare-and-set, so it exists before the first request. Moves
   * recorded before API keys keep the actor they claimed as their note: it was never authenticated.
   */
  async onModuleInit(): Promise<void> {
    await adoptIntoDefaultProject(this.model.collection, OBSOLETE_ALIAS_MOVE_INDEXES, { actor: 'note' });
    await ensureIndexes(this.model);
  }

  /** The alias's current target: its move with the highest rev. */
  async current(project: string, name: string, alias: string): Promise<AliasMove | null> {
    const [doc] = await this.moves.find({ project, name, alias }).sort({ rev: -1 }).limit(1).toArray();
    return doc ? toAliasMove(doc) : null;
  }

  /**
   * Where the alias pointed at `at`: its move with the highest rev moved at or before then (null:
   * it did not exist yet).
   */
  async asOf(project: string, name: string, alias: string, at: Date): Promise<AliasMove | null> {
    const [doc] = await this.moves
      .find({ project, name, alias, movedAt: { $lte: at } })
      .sort({ rev: -1 })
      .limit(1)
      .toArray();
    return doc ? toAliasMove(doc) : null;
  }

  /** The compare-and-set: 'conflict' when another move already took `move.rev`. */
  async insert(move: NewAliasMove): Promise<'inserted' | 'conflict'> {
    try {
      await this.moves.insertOne({
        ...move,
        _id: scopedId(move.project, move.name, move.alias, move.rev),
        published: false,
      });
      return 'inserted';
    } catch (err) {
      if (isDuplicateKey(err)) return 'conflict';
      throw err;
    }
  }

  /**
   * Moves the alias to `move.to` only while it is still at revision `expectedRev` (0: only while it
   * does not exist), so any move since, even one back to the same version, refuses it. The write is
   * one insert of rev = expectedRev + 1, and the unique index on (project, name, alias, rev) makes
   * it conditional: it succeeds only if no other move took that rev, on MongoDB and FerretDB alike.
   * An alias already at the target is left alone (`unchanged`), whatever its rev.
   */
  async compareAndMove(move: ConditionalAliasMove, expectedRev: number): Promise<CompareAndMoveResult> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const current = await this.current(move.project, move.name, move.alias);
      if (current?.to === move.to) return { outcome: 'unchanged', current };
      if ((current?.rev ?? 0) !== expectedRev) return { outcome: 'refused', current };
      const next: NewAliasMove = {
        ...move,
        rev: expectedRev + 1,
        from: current?.to ?? null,
        fromVersion: current?.toVersion ?? null,
      };
      if ((await this.insert(next)) === 'inserted') return { outcome: 'moved', move: next };
      // Another move took this rev: the alias moved, so the next read decides.
    }
    throw new Error(`alias ${move.alias} of ${move.name}: ${MAX_CAS_ATTEMPTS} lost races in a row`);
  }

  /** Newest first; `beforeRev` = only older moves. */
  async history(
    project: string,
    name: string,
    alias: string,
    limit: number,
    beforeRev?: number,
  ): Promise<AliasMove[]> {
    const filter =
      beforeRev === undefined ? { project, name, alias } : { project, name, alias, rev: { $lt: beforeRev } };
    const docs = await this.moves.find(filter).sort({ rev: -1 }).limit(limit).toArray();
    return docs.map(toAliasMove);
  }

  /** Pending outbox records whose backoff has passed, oldest first per alias. */
  findUnpublished(limit: number, now = new Date()): Promise<OutboxEntry<UnpublishedAliasMove>[]> {
    return findPendingEntries(this.moves, limit, now, toAliasMove, (a, b) =>
      a.project === b.project && a.name === b.name && a.alias === b.alias
        ? a.rev - b.rev
        : a.movedAt.localeCompare(b.movedAt),
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
