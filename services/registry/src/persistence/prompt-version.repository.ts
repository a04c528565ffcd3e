import { ensureIndexes, isDuplicateKey, requestCollection } from '@llmops/platform';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model, mongo } from 'mongoose';
import { DEFAULT_PROJECT } from '@llmops/contracts';
import { scopedId } from '../domain/project-scope';
import type { PromptSpec } from '../domain/prompt-spec';
import { type PromptVersion, shortHashOf } from '../domain/prompt-version';
import {
  markPublished,
  findPendingEntries,
  type OutboxEntry,
  type OutboxFailure,
  pendingOrWaiting,
  recordFailures,
} from './outbox-state';
import { adoptIntoDefaultProject } from './project-migration';
import { OBSOLETE_VERSION_INDEXES, PromptVersionDocument } from './prompt-version.schema';

export type NewVersion = Omit<PromptVersionDocument, '_id' | 'published' | 'publishedAt'>;

type StoredVersion = Omit<PromptVersionDocument, 'specCanonical' | 'project'> & {
  specCanonical?: string;
  project?: string;
};

export interface UnpublishedVersion extends PromptVersion {
  readonly id: string;
  readonly correlationId?: string;
  readonly traceparent?: string;
}

const LIST_PROJECTION = { specCanonical: 0 } as const;

export function toPromptVersion(doc: StoredVersion): PromptVersion {
  return {
    // Only a document written by the previous version of this service after the migration lacks it.
    project: doc.project ?? DEFAULT_PROJECT,
    name: doc.name,
    hash: doc.hash,
    shortHash: shortHashOf(doc.hash),
    version: doc.version,
    // Written by this service from a validated spec; list queries leave it out.
    spec: (doc.specCanonical === undefined ? undefined : JSON.parse(doc.specCanonical)) as PromptSpec,
    ...(doc.metadata ? { metadata: doc.metadata } : {}),
    createdAt: doc.createdAt.toISOString(),
    ...(doc.actor ? { actor: doc.actor } : {}),
  };
}

@Injectable()
export class PromptVersionRepository implements OnModuleInit {
  /** Request paths: every operation has the operation deadline. */
  private readonly versions: mongo.Collection<PromptVersionDocument>;

  constructor(@InjectModel(PromptVersionDocument.name) private readonly model: Model<PromptVersionDocument>) {
    this.versions = requestCollection(model);
  }

  /** The unique indexes make registration race-safe, so they exist before the first request. */
  async onModuleInit(): Promise<void> {
    await adoptIntoDefaultProject(this.model.collection, OBSOLETE_VERSION_INDEXES);
    await ensureIndexes(this.model);
  }

  /** Inserts version and outbox record in one document; 'duplicate' when the hash or number is taken. */
  async insert(version: NewVersion): Promise<'inserted' | 'duplicate'> {
    try {
      await this.versions.insertOne({
        ...version,
        _id: scopedId(version.project, version.name, version.hash),
        published: false,
      });
      return 'inserted';
    } catch (err) {
      if (isDuplicateKey(err)) return 'duplicate';
      throw err;
    }
  }

  async findByHash(project: string, name: string, hash: string): Promise<PromptVersion | null> {
    // By _id (as inserted): a primary-key lookup even where secondary indexes are not used for
    // queries (FerretDB's SQLite backend scans the collection otherwise).
    const doc = await this.versions.findOne({ _id: scopedId(project, name, hash) });
    return doc ? toPromptVersion(doc) : null;
  }

  async findByNumber(project: string, name: string, version: number): Promise<PromptVersion | null> {
    const doc = await this.versions.findOne({ project, name, version });
    return doc ? toPromptVersion(doc) : null;
  }

  /** Versions whose hash starts with `prefix` (at most `limit`), as a range scan on the hash index. */
  async findByPrefix(project: string, name: string, prefix: string, limit: number): Promise<PromptVersion[]> {
    const upper = prefix + 'g'; // 'g' sorts after every hex digit
    const docs = await this.versions
      .find({ project, name, hash: { $gte: prefix, $lt: upper } })
      .sort({ hash: 1 })
      .limit(limit)
      .toArray();
    return docs.map(toPromptVersion);
  }

  async findLatest(project: string, name: string): Promise<PromptVersion | null> {
    const [doc] = await this.versions.find({ project, name }).sort({ version: -1 }).limit(1).toArray();
    return doc ? toPromptVersion(doc) : null;
  }

  async latestNumber(project: string, name: string): Promise<number> {
    const [doc] = await this.versions
      .find({ project, name }, { projection: { version: 1 } })
      .sort({ version: -1 })
      .limit(1)
      .toArray();
    return doc?.version ?? 0;
  }

  /** Newest first; `before` = only versions with a smaller number. Specs are left out. */
  async list(
    project: string,
    name: string,
    limit: number,
    before?: number,
  ): Promise<Omit<PromptVersion, 'spec'>[]> {
    const filter = before === undefined ? { project, name } : { project, name, version: { $lt: before } };
    const docs = await this.versions
      .find(filter, { projection: LIST_PROJECTION })
      .sort({ version: -1 })
      .limit(limit)
      .toArray();
    return docs.map((d) => {
      const { spec: _spec, ...rest } = toPromptVersion(d as StoredVersion);
      return rest;
    });
  }

  /** Pending outbox records whose backoff has passed, oldest first per name. */
  findUnpublished(limit: number, now = new Date()): Promise<OutboxEntry<UnpublishedVersion>[]> {
    return findPendingEntries(this.versions, limit, now, toPromptVersion, (a, b) =>
      a.project === b.project && a.name === b.name
        ? a.version - b.version
        : a.createdAt.localeCompare(b.createdAt),
    );
  }

  async countUnpublished(): Promise<number> {
    return this.versions.countDocuments(pendingOrWaiting());
  }

  async markPublished(ids: string[]): Promise<void> {
    await markPublished(this.versions, ids);
  }

  /** Backoff, or quarantine, for records that failed to publish for a reason of their own. */
  async recordFailures(failures: readonly OutboxFailure[]): Promise<void> {
    await recordFailures(this.versions, failures);
  }
}
