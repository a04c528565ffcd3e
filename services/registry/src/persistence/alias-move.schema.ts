import type { mongo } from 'mongoose';
import type { OutboxState } from './outbox-state';

export const ALIAS_MOVES_COLLECTION = 'prompt_alias_moves';

/**
 * Append-only log of alias moves: the current target of an alias is its move with the highest
 * `rev`. A move is written with `rev = current + 1`, and the unique index makes that insert the
 * compare-and-set: of two concurrent moves from the same state only one can take the next rev.
 * Each move is also its own outbox record (`published`), so the alias change, its history entry
 * and its event are one atomic write.
 */
export interface AliasMoveDocument extends OutboxState {
  /** `${name}/${alias}/${rev}` */
  _id: string;
  name: string;
  alias: string;
  rev: number;
  from: string | null;
  fromVersion: number | null;
  to: string;
  toVersion: number;
  actor: string;
  movedAt: Date;
  correlationId?: string;
  traceparent?: string;
}

export const ALIAS_MOVE_INDEXES: mongo.IndexDescription[] = [
  // Current target (highest rev), history (newest first) and the CAS on the next rev.
  { key: { name: 1, alias: 1, rev: -1 }, name: 'name_alias_rev_unique', unique: true },
  // The outbox publisher's poll: { published: false }.
  { key: { published: 1 }, name: 'published' },
];
