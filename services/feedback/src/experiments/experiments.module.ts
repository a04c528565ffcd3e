import { Module } from '@nestjs/common';
import { ExperimentDirectory } from './experiment-directory';
import { ExperimentsConsumer } from './experiments.consumer';

/** This replica's directory of experiments per project, fed by the experiments topic. */
@Module({
  controllers: [ExperimentsConsumer],
  providers: [ExperimentDirectory],
  exports: [ExperimentDirectory],
})
export class ExperimentsModule {}
