import {
  Authorize,
  CurrentPrincipal,
  openApiSchema,
  parseOrThrow,
  type Principal,
  type RequestContext,
  RequestCtx,
} from '@llmops/platform';
import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { recordExposuresRequestSchema } from './dto/record-exposures.request';
import {
  recordExposuresResponseJsonSchema,
  type RecordExposuresResponse,
} from './dto/record-exposures.response';
import { RecordExposuresUseCase } from './record-exposures.usecase';

@ApiTags('assignment')
@Controller('v1/exposures')
export class ExposuresController {
  constructor(private readonly recordExposures: RecordExposuresUseCase) {}

  @Post()
  @Authorize('assign', 'assign')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Record up to 1,000 exposures of assignments an SDK made locally; results in request order',
    description:
      "Each item is checked against the server's own assignment of the user (attributes are needed " +
      'for experiments with targeting): an item whose arm or phase differs, or whose user is not in ' +
      'the experiment, is rejected on its own. Accepted items are produced exactly like the exposures ' +
      'of POST /v1/assign; the answer comes after the broker acknowledged them.',
  })
  @ApiBody({ schema: openApiSchema(recordExposuresRequestSchema) })
  @ApiResponse({ status: 202, schema: recordExposuresResponseJsonSchema })
  @ApiResponse({ status: 400, description: 'validation_failed (names the field)' })
  @ApiResponse({ status: 503, description: 'broker_unavailable (Retry-After): no item was recorded' })
  record(
    @Body() body: unknown,
    @CurrentPrincipal() principal: Principal,
    @RequestCtx() ctx: RequestContext,
  ): Promise<RecordExposuresResponse> {
    const { items } = parseOrThrow(recordExposuresRequestSchema, body);
    return this.recordExposures.execute(principal.project, items, ctx);
  }
}
