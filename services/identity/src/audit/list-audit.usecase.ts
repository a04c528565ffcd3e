import { decodeCursor, encodeCursor, type Principal } from '@llmops/platform';
import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { AuditRecordRepository } from '../persistence/audit-record.repository';
import { isPlatformAdmin } from '../projects/project-access';
import { ProjectNotFoundError } from '../projects/projects.errors';
import type { AuditPageResponse } from './dto/audit.response';
import type { AuditQuery } from './dto/audit.request';

/** A cursor holds where the previous page ended: (time, id) of its last record. */
const cursorKey = z.tuple([z.iso.datetime(), z.string().min(1).max(64)]);

@Injectable()
export class ListAuditUseCase {
  constructor(private readonly records: AuditRecordRepository) {}

  /**
   * A page of a project's trail, newest first. A key reads its own project's trail; a
   * `platform:admin` key may name any project (deleted ones too). Another project answers the same
   * 404 as one that does not exist.
   */
  async execute(principal: Principal, query: AuditQuery): Promise<AuditPageResponse> {
    const project = query.project ?? principal.project;
    if (project !== principal.project && !isPlatformAdmin(principal)) throw new ProjectNotFoundError(project);
    const after = decodeCursor(query.cursor, cursorKey);
    const page = await this.records.page(
      {
        project,
        ...(query.actor !== undefined ? { actor: query.actor } : {}),
        ...(query.since !== undefined ? { since: new Date(query.since) } : {}),
      },
      query.limit + 1,
      after ? { time: after[0], id: after[1] } : undefined,
    );
    const items = page.slice(0, query.limit);
    const last = items[items.length - 1];
    return {
      items: items as AuditPageResponse['items'],
      nextCursor: page.length > query.limit ? encodeCursor([last.time, last.id]) : null,
    };
  }
}
