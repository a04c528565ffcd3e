import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiQueryFrom, Authorize, CurrentPrincipal, parseOrThrow, type Principal } from '@llmops/platform';
import type { FastifyReply } from 'fastify';
import { DownloadSnapshotUseCase } from './download-snapshot.usecase';
import { downloadQuerySchema } from './dto/download.request';

export const NDJSON = 'application/x-ndjson';
export const SNAPSHOT_ID_HEADER = 'x-llmops-snapshot-id';

@ApiTags('datasets')
@Controller('v1/datasets')
export class ExportController {
  constructor(private readonly download: DownloadSnapshotUseCase) {}

  @Get(':name/snapshots/:ref/download')
  @Authorize('datasets:read', 'read')
  @ApiOperation({
    summary: 'Download one split of a snapshot as JSONL',
    description:
      'Streams the split in snapshot order, one JSON object per line (application/x-ndjson), in the chosen format. An empty split is an empty body. A response cut short (the connection closes before the chunked body ends) is incomplete: download again.',
  })
  @ApiParam({ name: 'name', description: 'dataset name' })
  @ApiParam({ name: 'ref', description: 'snapshot id (64 hex), sequence number, or latest' })
  @ApiQueryFrom(downloadQuerySchema)
  @ApiProduces(NDJSON)
  @ApiResponse({
    status: 200,
    description: 'The split as JSONL (attachment; see the README for each format)',
    headers: {
      [SNAPSHOT_ID_HEADER]: {
        description: 'The content id of the snapshot served',
        schema: { type: 'string' },
      },
      'content-disposition': {
        description: 'attachment; filename="<dataset>-<sequence>-<split>.<format>.jsonl"',
        schema: { type: 'string' },
      },
    },
    content: { [NDJSON]: { schema: { type: 'string' } } },
  })
  @ApiResponse({
    status: 400,
    description:
      'validation_failed (bad split name or format, unknown parameter) | format_mismatch (format of another dataset format) | unknown_split',
  })
  @ApiResponse({
    status: 404,
    description: "dataset_not_found | snapshot_not_found (also for another project's dataset)",
  })
  async downloadSplit(
    @CurrentPrincipal() principal: Principal,
    @Param('name') name: string,
    @Param('ref') ref: string,
    @Query() query: unknown,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const parsed = parseOrThrow(downloadQuerySchema, query ?? {}, 'query');
    const { snapshot, filename, body } = await this.download.execute(principal.project, name, ref, parsed);
    // The status and headers go out as soon as the body starts to flow, before the first records
    // are read: a database that scans a large collection for the first batch must not keep the client
    // waiting for them.
    body.once('resume', () => {
      if (!reply.raw.headersSent) reply.raw.flushHeaders();
    });
    await reply
      .type(NDJSON)
      .header('content-disposition', `attachment; filename="${filename}"`)
      .header(SNAPSHOT_ID_HEADER, snapshot.id)
      .send(body);
  }
}
