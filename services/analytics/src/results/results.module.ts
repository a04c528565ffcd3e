import { Module } from '@nestjs/common';
import { PersistenceModule } from '../persistence/persistence.module';
import { GetResultsUseCase } from './get-results.usecase';
import { ListUnattributedUseCase } from './list-unattributed.usecase';
import { ResultsController } from './results.controller';

@Module({
  imports: [PersistenceModule],
  controllers: [ResultsController],
  providers: [GetResultsUseCase, ListUnattributedUseCase],
  exports: [GetResultsUseCase, ListUnattributedUseCase],
})
export class ResultsModule {}
