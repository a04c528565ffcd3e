import type { mongo } from 'mongoose';
import { classifyFailure } from '../kafka/consumer-failures';

/** One failed document of a caller's insert: `index` is its position in the caller's documents. */
export interface GroupedWriteError {
  index: number;
  code: number | undefined;
  errmsg: string;
  /** The server's details (a validation failure's), when it gave some. */
  errInfo?: unknown;
}

/**
 * A caller's insert stored some of its documents and not others, like an unordered `insertMany`'s
 * MongoBulkWriteError: `writeErrors` holds the caller's failed documents only. The other callers of
 * the same command are not affected by them.
 */
export class GroupedInsertError extends Error {
  override readonly name = 'GroupedInsertError';
  /** The first failed document's code (11000: a duplicate key). */
  readonly code: number | undefined;

  constructor(
    readonly collection: string,
    readonly writeErrors: GroupedWriteError[],
    /** The commands charged to the caller, as `GroupedInserts.insert` resolves with. */
    readonly commands: number,
  ) {
    super(
      `${collection}: ${writeErrors.length} document(s) not inserted; first: ${writeErrors[0]?.errmsg ?? 'unknown'}`,
    );
    this.code = writeErrors[0]?.code;
  }
}

interface Waiter<T> {
  docs: readonly T[];
  resolve: (commands: number) => void;
  reject: (err: unknown) => void;
}

/** A driver's WriteError: its fields are getters. */
interface DocumentError {
  index: number;
  code?: unknown;
  errmsg?: unknown;
  errInfo?: unknown;
}

interface BulkFailure {
  writeErrors?: unknown;
  insertedCount?: unknown;
  result?: { getWriteConcernError?: () => unknown };
}

/**
 * The write errors of a failed unordered insert of `total` documents, when they account for every
 * document it did not store (each document was either inserted or failed on its own), else null:
 * the command failed as a whole (a network error, a timeout, a document the driver cannot encode, a
 * write concern error), and which documents it stored is not known.
 */
function documentErrors(err: unknown, total: number): DocumentError[] | null {
  if (typeof err !== 'object' || err === null) return null;
  const e = err as BulkFailure;
  if (!Array.isArray(e.writeErrors) || e.writeErrors.length === 0) return null;
  if (typeof e.insertedCount !== 'number' || e.insertedCount + e.writeErrors.length !== total) return null;
  if (e.result?.getWriteConcernError?.()) return null;
  const list = e.writeErrors as Array<Partial<DocumentError> | null>;
  if (!list.every((w) => typeof w?.index === 'number' && w.index >= 0 && w.index < total)) return null;
  return list as DocumentError[];
}

/**
 * Whether a command that failed as a whole may have stored some of its documents, or may succeed if
 * sent again: a write concern error, or a failure the consumers retry (a network error, a timeout,
 * no server selected; see classifyFailure). Otherwise it was refused before anything was stored.
 */
function mayHaveWritten(err: unknown): boolean {
  const e = err as BulkFailure | null;
  if (typeof e === 'object' && e !== null && e.result?.getWriteConcernError?.()) return true;
  return classifyFailure(err) === 'transient';
}

/**
 * Inserts into one collection by callers that run at once (the lanes of a consumer), sent
 * together: one unordered `insertMany` is in flight at a time, and the inserts that arrive
 * meanwhile wait for it and then go out as one command. An insert that finds none in flight is
 * sent at once, alone, and settles with the driver's own answer. A caller of a shared command
 * settles as its own unordered `insertMany` would have:
 * - all its documents inserted: it resolves;
 * - some of them failed on their own (a duplicate `_id`, a document the server refuses): it rejects
 *   with a `GroupedInsertError` holding those; the other callers' documents are stored all the same;
 * - the command failed as a whole in a way that may have stored documents or that a retry may fix
 *   (a network error, a timeout, a write concern error): every caller rejects with that error, as a
 *   command of its own could have;
 * - the command was refused as a whole with nothing stored (a document the driver cannot encode):
 *   each caller's documents are sent again on their own, so that one caller's bad document never
 *   fails another's insert.
 *
 * A server that writes one command at a time with a fixed cost each (FerretDB on SQLite) then runs
 * fewer, larger commands, which shortens every caller's wait; MongoDB is spared round trips.
 */
export class GroupedInserts<T extends mongo.Document> {
  private waiting: Array<Waiter<T>> = [];
  private inFlight = false;

  constructor(private readonly collection: () => mongo.Collection<T>) {}

  get collectionName(): string {
    return this.collection().collectionName;
  }

  /**
   * Inserts `docs` with the next command. Resolves with the number of commands charged to this call:
   * each command that succeeded or failed on its documents is charged to one of its callers, so the
   * sum over callers is what was sent, but for shared commands refused as a whole.
   */
  insert(docs: readonly T[]): Promise<number> {
    if (docs.length === 0) return Promise.resolve(0);
    return new Promise<number>((resolve, reject) => {
      this.waiting.push({ docs, resolve, reject });
      if (!this.inFlight) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.inFlight = true;
    try {
      while (this.waiting.length > 0) {
        const group = this.waiting;
        this.waiting = [];
        // Whatever happens, every caller of the group settles.
        await this.send(group).catch((err: unknown) => {
          for (const w of group) w.reject(err);
        });
      }
    } finally {
      this.inFlight = false;
    }
  }

  private async send(group: Array<Waiter<T>>): Promise<void> {
    const collection = this.collection();
    if (group.length === 1) {
      // Alone: the driver's own answer, error included.
      await collection.insertMany(group[0].docs as mongo.OptionalUnlessRequiredId<T>[], { ordered: false });
      group[0].resolve(1);
      return;
    }
    const docs = group.flatMap((w) => w.docs);
    try {
      await collection.insertMany(docs as mongo.OptionalUnlessRequiredId<T>[], { ordered: false });
      group.forEach((w, i) => w.resolve(i === 0 ? 1 : 0));
      return;
    } catch (err) {
      const errors = documentErrors(err, docs.length);
      if (errors) {
        this.settleEach(group, errors, collection.collectionName);
        return;
      }
      // The command may have stored documents (a lost answer, a write concern error), or a retry may
      // succeed: every caller gets the error, as a command of its own could have.
      if (mayHaveWritten(err)) throw err;
    }
    // Refused as a whole (a document the driver cannot encode, a server error): each caller's
    // documents on their own, one command after another. Only an insert the driver split into
    // several commands (over 100,000 documents or 48 MB) can have stored a part before another part
    // failed: those documents are then duplicate keys for their caller, as after a lost answer.
    for (const w of group) {
      try {
        await collection.insertMany(w.docs as mongo.OptionalUnlessRequiredId<T>[], { ordered: false });
        w.resolve(1);
      } catch (err) {
        w.reject(err);
      }
    }
  }

  /** Hands each caller its own documents' errors, indexed in its documents. */
  private settleEach(group: Array<Waiter<T>>, errors: DocumentError[], collection: string): void {
    const sorted = [...errors].sort((a, b) => a.index - b.index);
    let e = 0;
    let start = 0;
    group.forEach((w, i) => {
      const end = start + w.docs.length;
      const own: GroupedWriteError[] = [];
      for (; e < sorted.length && sorted[e].index < end; e++) {
        const { index, code, errmsg, errInfo } = sorted[e];
        own.push({
          index: index - start,
          code: typeof code === 'number' ? code : undefined,
          errmsg: typeof errmsg === 'string' ? errmsg : 'write error',
          ...(errInfo === undefined ? {} : { errInfo }),
        });
      }
      if (own.length > 0) w.reject(new GroupedInsertError(collection, own, i === 0 ? 1 : 0));
      else w.resolve(i === 0 ? 1 : 0);
      start = end;
    });
  }
}
