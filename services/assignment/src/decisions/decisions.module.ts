import { Module } from '@nestjs/common';
import { ExperimentsModule } from '../experiments/experiments.module';
import { ActOnDecisionUseCase } from './act-on-decision.usecase';
import { DecisionsConsumer } from './decisions.consumer';

@Module({
  imports: [ExperimentsModule],
  controllers: [DecisionsConsumer],
  providers: [ActOnDecisionUseCase],
})
export class DecisionsModule {}
