import type { JsonValue } from '@llmops/contracts';
import { RenderBudget, renderTemplateAsync, templateVariables, type TemplateVariables } from './template';

export type JsonObject = { [key: string]: JsonValue };

export interface PromptMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/**
 * The fields of a prompt spec that rendering reads. The registry validates specs (its schema is
 * the authority); any validated spec is assignable to this type.
 */
export interface RenderableSpec {
  model: string;
  template?: string;
  messages?: PromptMessage[];
  params?: JsonObject;
  system?: string;
  fewShot?: Array<{ input: string; output: string }>;
  responseFormat?: JsonObject;
  tools?: JsonObject[];
}

/** What a client sends to an LLM provider. */
export interface RenderedPrompt {
  model: string;
  params: JsonObject;
  text?: string;
  messages?: PromptMessage[];
  responseFormat?: JsonObject;
  tools?: JsonObject[];
}

/** Every placeholder of the spec (template or messages, system prompt, few-shot examples). */
export function specVariables(spec: RenderableSpec): string[] {
  const texts = [
    spec.system ?? '',
    ...(spec.fewShot ?? []).flatMap((e) => [e.input, e.output]),
    spec.template ?? '',
    ...(spec.messages ?? []).map((m) => m.content),
  ];
  return [...new Set(texts.flatMap(templateVariables))];
}

/**
 * A bare template renders to `text`. Chat specs, and templates with a system prompt or few-shot
 * examples, render to `messages`: the system prompt first, then each example as a user/assistant
 * pair, then the template (as a user message) or the spec's messages.
 * Returns the names of all missing variables instead of failing on the first one.
 * The rendered texts together may hold at most `maxRenderedBytes` UTF-8 bytes: past it, rendering
 * stops with RenderBudgetExceededError before the oversized text exists. Rendering yields to the
 * event loop between slices of placeholders, so a large render never blocks other requests.
 */
export async function renderSpec(
  spec: RenderableSpec,
  variables: TemplateVariables,
  maxRenderedBytes = Number.POSITIVE_INFINITY,
): Promise<{ prompt: RenderedPrompt; missing: string[] }> {
  const missing = new Set<string>();
  const budget = new RenderBudget(maxRenderedBytes);
  const render = async (text: string): Promise<string> => {
    const r = await renderTemplateAsync(text, variables, budget);
    r.missing.forEach((m) => missing.add(m));
    return r.text;
  };
  const prompt: RenderedPrompt = { model: spec.model, params: spec.params ?? {} };
  const preamble: PromptMessage[] = [];
  if (spec.system !== undefined) preamble.push({ role: 'system', content: await render(spec.system) });
  for (const example of spec.fewShot ?? []) {
    preamble.push({ role: 'user', content: await render(example.input) });
    preamble.push({ role: 'assistant', content: await render(example.output) });
  }
  if (spec.template !== undefined) {
    const text = await render(spec.template);
    if (preamble.length === 0) prompt.text = text;
    else prompt.messages = [...preamble, { role: 'user', content: text }];
  } else {
    prompt.messages = [...preamble];
    for (const m of spec.messages ?? [])
      prompt.messages.push({ role: m.role, content: await render(m.content) });
  }
  if (spec.responseFormat !== undefined) prompt.responseFormat = spec.responseFormat;
  if (spec.tools !== undefined) prompt.tools = spec.tools;
  if (missing.size === 0) return { prompt, missing: [] };
  // Report in the order the variables appear in the spec, not the order they were hit.
  const order = specVariables(spec);
  return { prompt, missing: order.filter((v) => missing.has(v)) };
}
