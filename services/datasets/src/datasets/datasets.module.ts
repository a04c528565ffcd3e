import { Module } from '@nestjs/common';
import { AliasRepository } from '../persistence/alias.repository';
import { DatasetRepository } from '../persistence/dataset.repository';
import { ExampleReader } from '../persistence/example-reader';
import { SnapshotRepository } from '../persistence/snapshot.repository';
import { CreateSnapshotUseCase } from './create-snapshot.usecase';
import { DatasetsController } from './datasets.controller';
import { ManageDatasetsUseCase } from './manage-datasets.usecase';
import { ReadSnapshotsUseCase } from './read-snapshots.usecase';
import { SnapshotPublisher } from './snapshot-publisher';
import { SnapshotRecovery } from './snapshot-recovery';

/**
 * Dataset definitions and their snapshots (API, builder, announcements); exports the repositories
 * the export module reads.
 */
@Module({
  controllers: [DatasetsController],
  providers: [
    DatasetRepository,
    SnapshotRepository,
    ExampleReader,
    AliasRepository,
    SnapshotPublisher,
    SnapshotRecovery,
    ManageDatasetsUseCase,
    CreateSnapshotUseCase,
    ReadSnapshotsUseCase,
  ],
  exports: [DatasetRepository, SnapshotRepository],
})
export class DatasetsModule {}
