import { ensureIndexes, isDuplicateKey, requestCollection } from '@llmops/platform';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model, mongo } from 'mongoose';
import { ProjectDocument } from './project.schema';

export interface Project {
  id: string;
  name: string;
  createdAt: string;
  createdBy: string;
  deletedAt: string | null;
  /** False while the creation's audit event still has to be sent. */
  createAudited: boolean;
  /** False while the deletion's audit event still has to be sent. */
  deleteAudited: boolean;
}

export type ProjectAudit = 'createAudited' | 'deleteAudited';

function toProject(d: ProjectDocument): Project {
  return {
    id: d._id,
    name: d.name,
    createdAt: d.createdAt.toISOString(),
    createdBy: d.createdBy,
    deletedAt: d.deletedAt ? d.deletedAt.toISOString() : null,
    createAudited: d.createAudited !== false,
    deleteAudited: d.deleteAudited !== false,
  };
}

@Injectable()
export class ProjectRepository implements OnModuleInit {
  /** Request paths: every operation has the operation deadline. */
  private readonly projects: mongo.Collection<ProjectDocument>;
  /** Background work (boot, the consumer): no request deadline. */
  private readonly background: mongo.Collection<ProjectDocument>;

  constructor(@InjectModel(ProjectDocument.name) private readonly model: Model<ProjectDocument>) {
    this.projects = requestCollection(model);
    this.background = model.db
      .getClient()
      .db(model.db.name)
      .collection<ProjectDocument>(model.collection.collectionName);
  }

  onModuleInit(): Promise<void> {
    return ensureIndexes(this.model);
  }

  /**
   * Stores the project with its creation's audit event pending; 'exists' when the id is taken, also
   * by a deleted project (ids are never reused).
   */
  async create(project: { id: string; name: string; createdBy: string; createdAt: Date }) {
    try {
      await this.projects.insertOne({
        _id: project.id,
        name: project.name,
        createdAt: project.createdAt,
        createdBy: project.createdBy,
        deletedAt: null,
        createAudited: false,
      });
      return 'created' as const;
    } catch (err) {
      if (isDuplicateKey(err)) return 'exists' as const;
      throw err;
    }
  }

  /** Creates the project unless it exists (boot: the `default` project); never revives a deleted one. */
  async ensure(id: string, createdBy: string, now: Date): Promise<void> {
    await this.background.updateOne(
      { _id: id },
      { $setOnInsert: { name: id, createdAt: now, createdBy, deletedAt: null } },
      { upsert: true },
    );
  }

  /** The project, deleted or not; null when it never existed. */
  async find(id: string): Promise<Project | null> {
    const doc = await this.projects.findOne({ _id: id });
    return doc ? toProject(doc) : null;
  }

  /**
   * Marks the project deleted with its audit event pending (the first deletion's time stays); the
   * project as stored now, or null when it never existed.
   */
  async markDeleted(id: string, at: Date): Promise<Project | null> {
    await this.projects.updateOne(
      { _id: id, deletedAt: null },
      { $set: { deletedAt: at, deleteAudited: false } },
    );
    return this.find(id);
  }

  /** The creation's (deletion's) audit event is on the audit topic. */
  async markAudited(id: string, change: ProjectAudit): Promise<void> {
    await this.projects.updateOne({ _id: id }, { $unset: { [change]: '' } });
  }

  /** Ids of every deleted project (boot: republishing keys with `projectDeleted`). */
  async deletedIds(): Promise<Set<string>> {
    const docs = await this.background
      .find({ deletedAt: { $ne: null } }, { projection: { _id: 1 } })
      .toArray();
    return new Set(docs.map((d) => String(d._id)));
  }
}
