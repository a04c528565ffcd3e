import { Module } from '@nestjs/common';
import { IngestionModule } from '../ingestion/ingestion.module';
import { GenerationsController } from './generations.controller';
import { LogGenerationsUseCase } from './log-generations.usecase';

@Module({
  imports: [IngestionModule],
  controllers: [GenerationsController],
  providers: [LogGenerationsUseCase],
})
export class GenerationsModule {}
