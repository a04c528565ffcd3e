import { AppError, ConflictError, NotFoundError } from '@llmops/platform';

/** Also the answer for another project's dataset: a key never learns what other projects hold. */
export class DatasetNotFoundError extends NotFoundError {
  constructor(name: string) {
    super('dataset_not_found', `No dataset "${name}" in this project.`, { dataset: name });
  }
}

export class DatasetExistsError extends ConflictError {
  constructor(name: string) {
    super(
      'dataset_exists',
      `Dataset "${name}" exists in this project: choose another name or delete it first.`,
      {
        dataset: name,
      },
    );
  }
}

export class SnapshotNotFoundError extends NotFoundError {
  constructor(dataset: string, ref: string) {
    super(
      'snapshot_not_found',
      `Dataset "${dataset}" has no snapshot "${ref}" (a ref is a 64-hex snapshot id, a sequence number or latest).`,
      { dataset, ref },
    );
  }
}

/** The dataset filters on a prompt alias this service has not seen move yet. */
export class PromptAliasNotFoundError extends AppError {
  constructor(name: string, alias: string) {
    super(
      422,
      'prompt_alias_not_found',
      `Prompt "${name}" has no alias "${alias}" known to the datasets service; move the alias in the registry or filter by hash.`,
      { prompt: name, alias },
    );
  }
}
