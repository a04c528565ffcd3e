import { AppError, ConflictError, NotFoundError, ValidationFailedError } from '@llmops/platform';
import type { EventNotPublishableError } from '../outbox/outbox-events';

export class InvalidNameError extends AppError {
  constructor(name: string) {
    super(
      400,
      'invalid_name',
      `Prompt name "${name}" is invalid: names must match ^[a-z0-9][a-z0-9_.-]{0,127}$.`,
      {
        name,
      },
    );
  }
}

export class InvalidAliasError extends AppError {
  constructor(alias: string, reason: string) {
    super(400, 'invalid_alias', `Alias "${alias}" cannot be set: ${reason}.`, { alias });
  }
}

export class ReservedAliasError extends AppError {
  constructor(alias: string) {
    super(
      400,
      'reserved_alias',
      `Alias "${alias}" is reserved and maintained by the registry: it always points at the newest version.`,
      {
        alias,
      },
    );
  }
}

export class SpecTooLargeError extends AppError {
  constructor(bytes: number, max: number) {
    super(
      413,
      'spec_too_large',
      `The spec is ${bytes} bytes of canonical JSON; at most ${max} bytes are accepted.`,
      {
        bytes,
        maxBytes: max,
      },
    );
  }
}

export class PromptNotFoundError extends NotFoundError {
  constructor(name: string) {
    super('prompt_not_found', `No prompt named "${name}" has been registered.`, { name });
  }
}

export class VersionNotFoundError extends NotFoundError {
  constructor(name: string, ref: string) {
    super(
      'version_not_found',
      `Prompt "${name}" has no version "${ref}" (tried: full hash, hash prefix of 7+ hex, version number, alias).`,
      { name, ref },
    );
  }
}

export class AliasNotFoundError extends NotFoundError {
  constructor(name: string, alias: string) {
    super('alias_not_found', `Prompt "${name}" has no alias "${alias}".`, { name, alias });
  }
}

export interface RefCandidateInfo {
  hash: string;
  shortHash: string;
  version: number;
}

export class AmbiguousRefError extends ConflictError {
  constructor(name: string, ref: string, candidates: RefCandidateInfo[]) {
    super(
      'ambiguous_ref',
      `Hash prefix "${ref}" matches ${candidates.length} versions of "${name}"; give more characters.`,
      { name, ref, candidates },
    );
  }
}

export class AliasConflictError extends ConflictError {
  constructor(
    name: string,
    alias: string,
    expected: string | null,
    actual: string | null,
    actualVersion: number | null,
  ) {
    super(
      'alias_conflict',
      `Alias "${alias}" of "${name}" points at ${actual ?? 'nothing'}, not the expected ${expected ?? 'nothing'}; re-read it and retry.`,
      { name, alias, expected, actual, actualVersion },
    );
  }
}

export class MissingVariablesError extends AppError {
  constructor(missing: string[]) {
    super(422, 'missing_variables', `Missing template variables: ${missing.join(', ')}.`, { missing });
  }
}

export class RenderedTooLargeError extends AppError {
  constructor(maxBytes: number) {
    super(
      422,
      'rendered_too_large',
      `The rendered prompt would exceed ${maxBytes} bytes: send shorter variable values or use a template with fewer placeholders.`,
      { maxBytes },
    );
  }
}

export class DiffTooLargeError extends AppError {
  constructor(field: string, lines: number, maxLines: number) {
    super(
      422,
      'diff_too_large',
      `The ${field} of one version has ${lines} lines; line diffs compare at most ${maxLines} lines per text. Compare the versions' specs (GET /v1/prompts/{name}/versions/{ref}) instead.`,
      { field, lines, maxLines },
    );
  }
}

export class DiffTooDifferentError extends AppError {
  constructor(field: string, maxChangedLines: number, timeoutMs: number) {
    super(
      422,
      'diff_too_different',
      `The ${field} texts are too different to diff line by line (more than ${maxChangedLines} changed lines, or over ${timeoutMs} ms). Compare the versions' specs (GET /v1/prompts/{name}/versions/{ref}) instead.`,
      { field, maxChangedLines },
    );
  }
}

export class WriteContentionError extends AppError {
  constructor(what: string) {
    super(503, 'write_contention', `Too many concurrent writes to ${what}; retry.`, undefined, 1);
  }
}

export class EventTooLargeError extends AppError {
  constructor(bytes: number, max: number) {
    super(
      413,
      'event_too_large',
      `The resulting event would be ${bytes} bytes; at most ${max} bytes can be published. Make the spec smaller.`,
      { bytes, maxBytes: max },
    );
  }
}

/**
 * The HTTP error for a write whose event could not be published: 413 event_too_large, or 400
 * validation_failed with the contract's issues at request paths (`data.spec.x` -> `spec.x`).
 */
export function notPublishableError(
  err: EventNotPublishableError,
  eventType: string,
  maxBytes: number,
): AppError {
  if (err.reason === 'too_large') return new EventTooLargeError(err.bytes ?? 0, maxBytes);
  const issues =
    err.issues.length > 0
      ? err.issues.map((i) => ({ path: i.path.replace(/^data\./, ''), message: i.message }))
      : [{ path: '', message: err.message }];
  return new ValidationFailedError(
    issues,
    `The request would produce a ${eventType} event that does not pass its contract: ${issues
      .map((i) => `${i.path || '(body)'}: ${i.message}`)
      .join('; ')}`,
  );
}
