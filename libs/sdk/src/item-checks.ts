/**
 * What the feedback service would refuse of a generation or feedback item, refused by `log()`
 * before it is buffered: each item is checked against the JSON Schema of its request body in the
 * service's committed OpenAPI document (generated into `./generated/item-schemas`), so the SDK's
 * rules are the document's rules, not a copy. Two things stay with the service: the rating scale a
 * deployment configures (only "an integer" is checked here) and text sizes in UTF-8 bytes.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { LlmopsValidationError } from './errors';
import { FEEDBACK_ITEM_SCHEMA, GENERATION_ITEM_SCHEMA } from './generated/item-schemas';

// strict: false lets OpenAPI's own keywords (examples, descriptions) through; formats are not
// checked by name because the document states each as a pattern too (date-time).
const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: false });

let generation: ValidateFunction | undefined;
let feedback: ValidateFunction | undefined;

/** `a.b.0` for `/a/b/0`; a missing property names itself; a rule over the whole item names `kind`. */
function fieldOf(error: ErrorObject, kind: string): string {
  const path = error.instancePath.slice(1).replaceAll('/', '.');
  const missing = error.keyword === 'required' ? String(error.params.missingProperty) : '';
  const extra = error.keyword === 'additionalProperties' ? String(error.params.additionalProperty) : '';
  return [path, missing || extra].filter(Boolean).join('.') || kind;
}

function messageOf(error: ErrorObject, kind: string): string {
  if (error.keyword === 'anyOf' && kind === 'feedback')
    return 'expected at least one signal: rating, thumbs, comment, correction or a non-empty scores';
  if (error.keyword === 'additionalProperties') return 'not a field of this item';
  if (error.keyword === 'pattern') return `expected a value matching ${String(error.params.pattern)}`;
  return `expected a value that ${error.message ?? 'the service accepts'}`;
}

function check(kind: 'generation' | 'feedback', validate: ValidateFunction, item: unknown): void {
  if (validate(item)) return;
  // The last error is the outermost: an `anyOf` that failed follows the errors of its branches.
  const error = validate.errors?.at(-1);
  if (!error) throw new LlmopsValidationError(kind, 'refused by the service document');
  throw new LlmopsValidationError(fieldOf(error, kind), messageOf(error, kind));
}

/** Throws LlmopsValidationError naming the field when the service would refuse this generation. */
export function checkGeneration(item: unknown): void {
  generation ??= ajv.compile(GENERATION_ITEM_SCHEMA);
  check('generation', generation, item);
}

/** Throws LlmopsValidationError naming the field when the service would refuse this feedback. */
export function checkFeedback(item: unknown): void {
  feedback ??= ajv.compile(FEEDBACK_ITEM_SCHEMA);
  check('feedback', feedback, item);
}
