import type { DatasetFormat, ExportFormat } from '@llmops/contracts';
import { AppError } from '@llmops/platform';

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
