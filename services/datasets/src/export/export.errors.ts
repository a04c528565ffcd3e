import type { DatasetFormat, ExportFormat } from '@llmops/contracts';
import { AppError, NotFoundError } from '@llmops/platform';

export class DatasetNotFoundError extends NotFoundError {
  constructor(name: string) {
    super('dataset_not_found', `dataset "${name}" does not exist`, { dataset: name });
  }
}

export class SnapshotNotFoundError extends NotFoundError {
  constructor(dataset: string, ref: string) {
    super(
      'snapshot_not_found',
      `dataset "${dataset}" has no snapshot "${ref}" (a ref is a 64-hex snapshot id, a sequence number or latest)`,
      { dataset, ref },
    );
  }
}

export class FormatMismatchError extends AppError {
  constructor(format: ExportFormat, datasetFormat: DatasetFormat, offered: readonly ExportFormat[]) {
    super(
      400,
      'format_mismatch',
      `format "${format}" does not apply to a ${datasetFormat} dataset: use ${offered.join(' or ')}`,
      { format, datasetFormat, formats: offered },
    );
  }
}

export class UnknownSplitError extends AppError {
  constructor(split: string, splits: readonly string[]) {
    super(400, 'unknown_split', `the snapshot has no split "${split}": use ${splits.join(', ')}`, {
      split,
      splits,
    });
  }
}
