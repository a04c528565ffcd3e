import { Module } from '@nestjs/common';
import { ExperimentsModule } from '../experiments/experiments.module';
import { ReadSnapshotsUseCase } from './read-snapshots.usecase';
import { SnapshotsController } from './snapshots.controller';

@Module({
  imports: [ExperimentsModule],
  controllers: [SnapshotsController],
  providers: [ReadSnapshotsUseCase],
})
export class SnapshotsModule {}
