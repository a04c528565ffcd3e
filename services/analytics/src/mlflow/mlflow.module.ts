import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { PersistenceModule } from '../persistence/persistence.module';
import { ResultsModule } from '../results/results.module';
import { ExportToMlflowUseCase } from './export-to-mlflow.usecase';
import { MLFLOW_EXPORT, MlflowExportSchema, MlflowExportsRepository } from './mlflow-exports.repository';
import { MlflowExportScheduler } from './mlflow-export.scheduler';
import { MlflowController } from './mlflow.controller';

/** The MLflow export: on request, and automatically when an experiment stops (MLFLOW_TRACKING_URI set). */
@Module({
  imports: [
    PersistenceModule,
    ResultsModule,
    MongooseModule.forFeature([{ name: MLFLOW_EXPORT, schema: MlflowExportSchema }]),
  ],
  controllers: [MlflowController],
  providers: [ExportToMlflowUseCase, MlflowExportsRepository, MlflowExportScheduler],
})
export class MlflowModule {}
