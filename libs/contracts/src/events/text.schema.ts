import { z } from 'zod';

/**
 * What characters ids, names and free text may hold. Every contract and every service's request
 * schema builds its string fields from these definitions, so a value one service accepts is a
 * value every other service and every consumer accepts too.
 *
 * - **Opaque ids** (`requestId`, `feedbackId`, `userId`, event `id` and `subject`, `actor`, seeds,
 *   layer and attribute names, prompt refs): any Unicode text except control characters (C0
 *   U+0000-U+001F, DEL, C1 U+0080-U+009F) and lone surrogates. No trimming or normalisation: `abc`
 *   and `abc ` are two ids. Lengths are counted as zod counts them: in code points (a surrogate
 *   pair counts once).
 * - **Names** that become metric labels, topic keys or URL segments have ASCII patterns:
 *   {@link EXPERIMENT_KEY_PATTERN}, {@link PROMPT_NAME_PATTERN}, {@link ALIAS_NAME_PATTERN},
 *   {@link ARM_NAME_PATTERN}, {@link SCORE_NAME_PATTERN}, {@link MODEL_NAME_PATTERN},
 *   {@link DATASET_NAME_PATTERN}, {@link SPLIT_NAME_PATTERN}.
 * - **Free text** (comments, corrections, generation input and output, descriptions, every string
 *   and key inside JSON metadata, specs and params): anything well-formed, i.e. without lone
 *   surrogates, because a lone surrogate has no UTF-8 encoding (Node silently writes U+FFFD,
 *   Python's `str.encode()` raises) and two texts that differ only in one would collapse into one.
 */

/**
 * An opaque id: one or more characters, none of them a control character (C0 U+0000-U+001F, DEL,
 * C1 U+0080-U+009F) or a lone surrogate; a surrogate pair (an astral character such as an emoji)
 * is fine. The length limit is separate (see each field). Written without `\p{...}` classes and
 * without the `u` flag, so JSON Schema validators in other languages (Python's `re`, say) compile
 * the same pattern from the committed JSON Schemas and agree with it.
 */
export const OPAQUE_ID_PATTERN =
  // Naming control characters is the point of this pattern.
  // eslint-disable-next-line no-control-regex
  /^(?:[^\u0000-\u001f\u007f-\u009f\ud800-\udfff]|[\ud800-\udbff][\udc00-\udfff])+$/;

/** Experiment keys: lowercase, URL and topic-key safe. */
export const EXPERIMENT_KEY_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,127}$/;

/** Prompt names (the registry's URL segment and the prompt topics' key). */
export const PROMPT_NAME_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,127}$/;

/** Alias names of a prompt (`production`, `staging`); the registry also reserves a few, see its README. */
export const ALIAS_NAME_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,127}$/;

/** Arm names of an experiment (a label of analytics' per-arm series). */
export const ARM_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/** Names of feedback scores (`scores` keys; a label of analytics' per-score series). */
export const SCORE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

/**
 * Model names as providers write them: `gpt-4o-mini`, `openai/gpt-4o`, `llama3:8b`,
 * `anthropic.claude-3-sonnet-20240229-v1:0`, `claude-3-5-sonnet@20240620`.
 */
export const MODEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:/@+-]{0,255}$/;

/** Dataset names (the datasets service's URL segment and part of the dataset-snapshots topic key). */
export const DATASET_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** Split names of a dataset (`train`, `validation`, `test`): a record field and a download parameter. */
export const SPLIT_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;

/** A URI reference as CloudEvents `source` uses it: visible ASCII, no spaces. */
export const URI_REFERENCE_PATTERN = /^[\x21-\x7e]+$/;

/** True when `s` has no lone surrogate (so it has a UTF-8 encoding). Native, much faster than a regex. */
export function isWellFormedText(s: string): boolean {
  return (s as string & { isWellFormed(): boolean }).isWellFormed();
}

// Any control character or surrogate code unit: most ids have none, and a search for one is
// cheaper than matching OPAQUE_ID_PATTERN, which then decides only for the rest.
// eslint-disable-next-line no-control-regex
const CONTROL_OR_SURROGATE = /[\u0000-\u001f\u007f-\u009f\ud800-\udfff]/;

/**
 * True when `s` is an opaque id of 1 to `max` UTF-16 code units (see {@link OPAQUE_ID_PATTERN}),
 * for hand-written fast paths; `opaqueId()` is the schema. Counting code units (not code points,
 * as the schema does) makes it stricter on astral text, never more lenient.
 */
export function isOpaqueId(s: unknown, max: number): s is string {
  return (
    typeof s === 'string' &&
    s.length >= 1 &&
    s.length <= max &&
    (!CONTROL_OR_SURROGATE.test(s) || OPAQUE_ID_PATTERN.test(s))
  );
}

const WELL_FORMED_ERROR = 'expected well-formed Unicode text (a lone surrogate has no UTF-8 encoding)';

/** Free text: any string without lone surrogates, optionally limited in UTF-16 code units. */
export const text = (what = 'a string', max?: number) => {
  const s = z.string({ error: `expected ${what}` });
  return (max === undefined ? s : s.max(max, { error: `expected at most ${max} characters` })).refine(
    isWellFormedText,
    { error: WELL_FORMED_ERROR },
  );
};

/** Free text of 1 to `max` characters, without lone surrogates. */
export const nonEmptyText = (what: string, max: number) =>
  z
    .string({ error: `expected ${what}` })
    .min(1, { error: `expected a non-empty ${what}` })
    .max(max, { error: `expected at most ${max} characters` })
    .refine(isWellFormedText, { error: WELL_FORMED_ERROR });

/** An opaque id of 1 to `max` characters (see {@link OPAQUE_ID_PATTERN}). */
export const opaqueId = (what: string, max: number) =>
  z
    .string({ error: `expected ${what}` })
    .min(1, { error: `expected a non-empty ${what}` })
    .max(max, { error: `expected at most ${max} characters` })
    .regex(OPAQUE_ID_PATTERN, {
      error: `expected a ${what} without control characters (U+0000-U+001F, U+007F-U+009F) or lone surrogates`,
    });

/** A string matching `pattern`; the message quotes the pattern, so a client knows what to send. */
export const patterned = (what: string, pattern: RegExp) =>
  z
    .string({ error: `expected ${what}` })
    .regex(pattern, { error: `expected ${what} matching ${pattern.source}` });

export const experimentKey = () => patterned('an experiment key', EXPERIMENT_KEY_PATTERN);
export const promptName = () => patterned('a prompt name', PROMPT_NAME_PATTERN);
export const aliasName = () => patterned('an alias name', ALIAS_NAME_PATTERN);
export const armName = () => patterned('an arm name', ARM_NAME_PATTERN);
export const scoreName = () => patterned('a score name', SCORE_NAME_PATTERN);
export const modelName = () => patterned('a model name', MODEL_NAME_PATTERN);
export const datasetName = () => patterned('a dataset name', DATASET_NAME_PATTERN);
export const splitName = () => patterned('a split name', SPLIT_NAME_PATTERN);
