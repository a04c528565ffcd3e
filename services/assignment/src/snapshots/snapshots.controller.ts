import { ApiQueryFrom, Authorize, CurrentPrincipal, parseOrThrow, type Principal } from '@llmops/platform';
import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { snapshotsQuerySchema } from './dto/snapshots.query';
import { snapshotsResponseJsonSchema } from './dto/snapshots.response';
import { ReadSnapshotsUseCase } from './read-snapshots.usecase';

@ApiTags('assignment')
@Controller('v1/experiments/snapshots')
export class SnapshotsController {
  constructor(private readonly read: ReadSnapshotsUseCase) {}

  @Get()
  @Authorize('assign', 'read')
  @ApiOperation({
    summary: "Every experiment of the key's project, for local assignment; ETag, 304 and long poll",
    description:
      'Running or not, as the experiments topic carries them. `ETag: "<version>"`; the version changes ' +
      'whenever any experiment of the project changes. With If-None-Match equal to it: 304, or with ' +
      '`wait` the request is held until the version changes (200) or `wait` seconds pass (304).',
  })
  @ApiQueryFrom(snapshotsQuerySchema)
  @ApiHeader({ name: 'If-None-Match', required: false, description: 'The ETag of the snapshots held' })
  @ApiResponse({ status: 200, schema: snapshotsResponseJsonSchema })
  @ApiResponse({ status: 304, description: 'Not modified (If-None-Match is the current version)' })
  @ApiResponse({ status: 400, description: 'validation_failed (bad wait, unknown parameter)' })
  @ApiResponse({
    status: 503,
    description: 'too_many_waiters (Retry-After): this replica holds its most long polls',
  })
  async snapshots(
    @CurrentPrincipal() principal: Principal,
    @Query() query: unknown,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const { wait } = parseOrThrow(snapshotsQuerySchema, query);
    // The client may leave while held: release its place at once instead of at the deadline.
    const left = new AbortController();
    const onClose = (): void => left.abort();
    reply.raw.once('close', onClose);
    try {
      const result = await this.read.read(principal.project, ifNoneMatch, (wait ?? 0) * 1_000, left.signal);
      void reply.header('etag', result.view.etag).header('cache-control', 'no-cache');
      if (result.changed)
        await reply.status(200).type('application/json; charset=utf-8').send(result.view.body);
      else await reply.status(304).send();
    } finally {
      reply.raw.off('close', onClose);
    }
  }
}
