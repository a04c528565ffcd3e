import {
  ApiQueryFrom,
  Authorize,
  CurrentPrincipal,
  openApiSchema,
  parseOrThrow,
  type Principal,
} from '@llmops/platform';
import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { auditPageResponseSchema, type AuditPageResponse } from './dto/audit.response';
import { auditQuerySchema } from './dto/audit.request';
import { ListAuditUseCase } from './list-audit.usecase';

@ApiTags('audit')
@Controller('v1/audit')
export class AuditController {
  constructor(private readonly list: ListAuditUseCase) {}

  @Get()
  @Authorize('admin', 'read')
  @ApiOperation({
    summary: 'The audit trail of a project, newest first (admin; platform:admin may name any project)',
  })
  @ApiQueryFrom(auditQuerySchema)
  @ApiResponse({ status: 200, schema: openApiSchema(auditPageResponseSchema, 'output') })
  @ApiResponse({ status: 400, description: 'validation_failed, invalid_cursor' })
  @ApiResponse({
    status: 404,
    description: 'project_not_found (another project, for a key without platform:admin)',
  })
  get(@Query() query: unknown, @CurrentPrincipal() principal: Principal): Promise<AuditPageResponse> {
    return this.list.execute(principal, parseOrThrow(auditQuerySchema, query));
  }
}
