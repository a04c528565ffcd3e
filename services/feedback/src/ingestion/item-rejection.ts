/**
 * Why one item of a request was not accepted. Single-item endpoints turn it into an HTTP error
 * (`toAppError`); batch endpoints report it as `{ index, code, message }` and accept the rest.
 */
import { ContractValidationError } from '@llmops/contracts';
import { AppError, type ValidationIssue, zodIssues } from '@llmops/platform';
import type { z } from 'zod';

export interface ItemRejection {
  status: number;
  code: string;
  message: string;
  issues?: ValidationIssue[];
  details?: Record<string, unknown>;
}

function issuesMessage(issues: ValidationIssue[]): string {
  return issues.map((i) => `${i.path || '(body)'}: ${i.message}`).join('; ');
}

export function validationRejection(issues: ValidationIssue[]): ItemRejection {
  return { status: 400, code: 'validation_failed', message: issuesMessage(issues), issues };
}

export function zodRejection(error: z.ZodError): ItemRejection {
  return validationRejection(zodIssues(error));
}

/**
 * The request schemas mirror the event contract, so this only fires when the contract is stricter
 * than the API in some detail (e.g. a text limit): the client still gets a 400 naming its own field,
 * never a 500. Paths are rewritten from the envelope (`data.comment`) to the request (`comment`).
 */
export function contractRejection(error: ContractValidationError): ItemRejection {
  return validationRejection(
    error.issues.map((i) => ({ path: i.path.replace(/^data\.?/, ''), message: i.message })),
  );
}

export function isContractValidationError(err: unknown): err is ContractValidationError {
  return err instanceof ContractValidationError;
}

/**
 * An item naming an experiment that does not exist in the caller's project. An experiment of
 * another project gets exactly this answer: nothing tells it apart from a missing one.
 */
export function experimentNotFound(key: string): ItemRejection {
  return {
    status: 404,
    code: 'experiment_not_found',
    message: `No experiment with key "${key}". Create it with POST /v1/experiments (assignment service); ingestion knows it within moments.`,
    details: { key },
  };
}

export function toAppError(rejection: ItemRejection): AppError {
  const details = {
    ...(rejection.issues ? { issues: rejection.issues } : {}),
    ...rejection.details,
  };
  return new AppError(
    rejection.status,
    rejection.code,
    rejection.message,
    Object.keys(details).length > 0 ? details : undefined,
  );
}
