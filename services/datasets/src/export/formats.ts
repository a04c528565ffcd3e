/**
 * The download formats: each turns one stored snapshot record into one line of JSONL. Pure
 * functions of the record, so a snapshot downloads byte-identically every time. Every format that
 * carries a conversation writes it as chat messages (a string input is one user message, input
 * messages, system ones included, stay as given, each as `{role, content}`). Every line of a file
 * has the same keys, nested ones included, with values of the same type: a value a record lacks is
 * written as an empty string (never a valid name), not left out and not null. Columnar readers
 * need this: Hugging Face `datasets` infers a file's columns from its first 10 MB, fails on a later
 * key it did not see there, and types a key that is null throughout them as null, which fails on a
 * later string.
 */
import type { DatasetFormat, ExportFormat, GenerationMessage } from '@llmops/contracts';
import type { ExampleInput } from '../domain/example';
import type { ChatRecord, PreferenceRecord } from '../domain/records';
import type { Signals } from '../domain/signals';

/** The part of a stored chat or eval record the formats read. */
export type ChatRecordFields = Pick<
  ChatRecord,
  'id' | 'input' | 'output' | 'correction' | 'prompt' | 'model' | 'experiment' | 'arm'
> & { signals?: Pick<Signals, 'correction' | 'rating'> };

/** The part of a stored preference record the formats read. */
export type PreferenceRecordFields = Pick<PreferenceRecord, 'input' | 'preferred' | 'rejected'>;

type AssistantTurn = [{ role: 'assistant'; content: string }];

/** Which download formats each dataset format offers; the first is the default. */
export const FORMATS_OF: Readonly<Record<DatasetFormat, readonly ExportFormat[]>> = {
  chat: ['openai-chat'],
  preference: ['openai-preference', 'trl-dpo'],
  eval: ['eval'],
};

/** The input as chat messages: a string is one user message; messages stay as given. */
export function inputMessages(input: ExampleInput): GenerationMessage[] {
  return typeof input === 'string'
    ? [{ role: 'user', content: input }]
    : input.map(({ role, content }) => ({ role, content }));
}

const assistant = (content: string): AssistantTurn => [{ role: 'assistant', content }];

/** OpenAI supervised fine-tuning: the input, then the correction if any, else the output. */
export function openAiChatLine(record: ChatRecordFields): string {
  return `${JSON.stringify({
    messages: [...inputMessages(record.input), ...assistant(record.correction ?? record.output)],
  })}\n`;
}

/** OpenAI preference fine-tuning (DPO). */
export function openAiPreferenceLine(record: PreferenceRecordFields): string {
  return `${JSON.stringify({
    input: { messages: inputMessages(record.input) },
    preferred_output: assistant(record.preferred),
    non_preferred_output: assistant(record.rejected),
  })}\n`;
}

/** TRL `DPOTrainer`, conversational form: prompt messages, chosen and rejected assistant turns. */
export function trlDpoLine(record: PreferenceRecordFields): string {
  return `${JSON.stringify({
    prompt: inputMessages(record.input),
    chosen: assistant(record.preferred),
    rejected: assistant(record.rejected),
  })}\n`;
}

/** What an eval line writes for a value the record lacks. */
export const ABSENT = '';

/**
 * An eval case: the input, the expected answer (the correction, else the output, which the
 * snapshot admitted for its rating) and where it comes from: `expectedFrom` (`correction` or
 * `rating`) and `source`, the feedback source (user, judge, reviewer) of that signal. Every
 * metadata key is always there; `prompt`, `experiment`, `arm` and `source` hold ABSENT (`prompt`:
 * `{name: '', hash: ''}`) when the record has none.
 */
export function evalLine(record: ChatRecordFields): string {
  const fromCorrection = record.correction !== undefined;
  const signal = fromCorrection ? record.signals?.correction : record.signals?.rating;
  return `${JSON.stringify({
    input: inputMessages(record.input),
    expected: record.correction ?? record.output,
    metadata: {
      id: record.id,
      model: record.model,
      prompt: { name: record.prompt?.name ?? ABSENT, hash: record.prompt?.hash ?? ABSENT },
      experiment: record.experiment ?? ABSENT,
      arm: record.arm ?? ABSENT,
      expectedFrom: fromCorrection ? 'correction' : 'rating',
      source: signal?.source ?? ABSENT,
    },
  })}\n`;
}

/** The line writer of a download format. */
export function lineWriter(format: ExportFormat): (record: Record<string, unknown>) => string {
  switch (format) {
    case 'openai-chat':
      return (r) => openAiChatLine(r as unknown as ChatRecordFields);
    case 'openai-preference':
      return (r) => openAiPreferenceLine(r as unknown as PreferenceRecordFields);
    case 'trl-dpo':
      return (r) => trlDpoLine(r as unknown as PreferenceRecordFields);
    case 'eval':
      return (r) => evalLine(r as unknown as ChatRecordFields);
  }
}
