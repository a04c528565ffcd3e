import { Module } from '@nestjs/common';
import { PersistenceModule } from '../persistence/persistence.module';
import { PromptsModule } from '../prompts/prompts.module';
import { PromoteWinnerUseCase } from './promote-winner.usecase';
import { PromotionConsumer } from './promotion.consumer';
import { RecordBaselineUseCase } from './record-baseline.usecase';

/** Automatic promotion of experiment winners (the decisions topic) with compare-and-set. */
@Module({
  imports: [PersistenceModule, PromptsModule],
  controllers: [PromotionConsumer],
  providers: [RecordBaselineUseCase, PromoteWinnerUseCase],
})
export class PromotionModule {}
