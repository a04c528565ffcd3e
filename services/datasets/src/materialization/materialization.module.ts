import { Module } from '@nestjs/common';
import { AliasRepository } from '../persistence/alias.repository';
import { ExampleWriter } from '../persistence/example-writer';
import { ExampleGaugesRefresher } from './example-gauges.refresher';
import { MaterializationConsumer } from './materialization.consumer';
import { MaterializeBatchUseCase } from './materialize-batch.usecase';
import { RetentionSweeper } from './retention.sweeper';

/** Examples and prompt aliases from the Kafka topics; the retention sweep and the example gauges. */
@Module({
  providers: [
    MaterializeBatchUseCase,
    ExampleWriter,
    AliasRepository,
    RetentionSweeper,
    ExampleGaugesRefresher,
  ],
  controllers: [MaterializationConsumer],
})
export class MaterializationModule {}
