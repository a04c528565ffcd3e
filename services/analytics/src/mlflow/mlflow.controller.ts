import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Authorize, CurrentPrincipal, openApiSchema, type Principal } from '@llmops/platform';
import { type MlflowExportResult, mlflowExportResponseSchema } from './dto/mlflow-export.response';
import { ExportToMlflowUseCase } from './export-to-mlflow.usecase';

@ApiTags('results')
@Controller('v1')
export class MlflowController {
  constructor(private readonly exportToMlflow: ExportToMlflowUseCase) {}

  @Post('experiments/:key/export/mlflow')
  @HttpCode(200)
  @Authorize('results:read', 'write')
  @ApiOperation({
    summary: "Write the experiment's current phase to MLflow (one run per arm under a parent decision run)",
    description:
      'Creates the MLflow experiment `<project>/<key>` and the runs when absent, finds existing runs by tag and updates them (never duplicates). Stopped experiments are also exported automatically.',
  })
  @ApiParam({ name: 'key', description: 'experiment key' })
  @ApiResponse({ status: 200, schema: openApiSchema(mlflowExportResponseSchema, 'output') })
  @ApiResponse({
    status: 404,
    description: "experiment_not_found (also for another project's experiment)",
  })
  @ApiResponse({
    status: 503,
    description:
      'mlflow_not_configured (MLFLOW_TRACKING_URI unset), mlflow_unavailable (the tracking server failed; retry)',
  })
  export(@CurrentPrincipal() principal: Principal, @Param('key') key: string): Promise<MlflowExportResult> {
    return this.exportToMlflow.execute(principal.project, key);
  }
}
