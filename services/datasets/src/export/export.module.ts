import { Module } from '@nestjs/common';
import { DatasetsModule } from '../datasets/datasets.module';
import { DownloadSnapshotUseCase } from './download-snapshot.usecase';
import { ExportController } from './export.controller';
import { SnapshotLines } from './snapshot-lines';

/** Snapshot downloads: one split streamed as JSONL in a fine-tuning or eval format. */
@Module({
  imports: [DatasetsModule],
  controllers: [ExportController],
  providers: [DownloadSnapshotUseCase, SnapshotLines],
})
export class ExportModule {}
