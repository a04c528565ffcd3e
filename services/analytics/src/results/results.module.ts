import { Module } from '@nestjs/common';
import { PersistenceModule } from '../persistence/persistence.module';
import { GetResultsUseCase } from './get-results.usecase';
import { ListUncountedArmsUseCase } from './list-uncounted-arms.usecase';
import { ListUnattributedUseCase } from './list-unattributed.usecase';
import { ResultsController } from './results.controller';

@Module({
  imports: [PersistenceModule],
  controllers: [ResultsController],
  providers: [GetResultsUseCase, ListUnattributedUseCase, ListUncountedArmsUseCase],
  exports: [GetResultsUseCase, ListUnattributedUseCase],
})
export class ResultsModule {}
