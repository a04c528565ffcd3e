import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module';
import { PersistenceModule } from '../persistence/persistence.module';
import { DecisionScheduler } from './decision-scheduler';
import { EvaluateDecisionsUseCase } from './evaluate-decisions.usecase';

@Module({
  imports: [PersistenceModule, MetricsModule],
  providers: [EvaluateDecisionsUseCase, DecisionScheduler],
})
export class DecisionsModule {}
