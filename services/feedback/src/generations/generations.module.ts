import { Module } from '@nestjs/common';
import { IngestionModule } from '../ingestion/ingestion.module';
import { GenerationsRoutes } from './generations.routes';
import { LogGenerationsUseCase } from './log-generations.usecase';

@Module({
  imports: [IngestionModule],
  providers: [LogGenerationsUseCase, GenerationsRoutes],
})
export class GenerationsModule {}
