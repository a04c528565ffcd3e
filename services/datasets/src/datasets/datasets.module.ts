import { Module } from '@nestjs/common';
import { DatasetRepository } from '../persistence/dataset.repository';
import { SnapshotRepository } from '../persistence/snapshot.repository';

/** Dataset definitions and their snapshots; exports the repositories the export module reads. */
@Module({
  providers: [DatasetRepository, SnapshotRepository],
  exports: [DatasetRepository, SnapshotRepository],
})
export class DatasetsModule {}
