/**
 * `{variable}` templates, the reference design's syntax (a subset of Python's str.format):
 * - `{name}` with name = [A-Za-z_][A-Za-z0-9_]* is a placeholder;
 * - `{{` is a literal `{` and `}}` a literal `}` (as in Python);
 * - any other brace is kept literally, so JSON snippets such as `{"a": 1}` need no escaping.
 * Scanning is left to right, so `{{{x}}}` renders as `{` + x + `}`, like Python.
 */
const TOKEN = /\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

export type TemplateVariables = Readonly<Record<string, string | number | boolean>>;

/** Placeholder names in order of first appearance, without duplicates. */
export function templateVariables(template: string): string[] {
  const seen = new Set<string>();
  for (const m of template.matchAll(TOKEN)) {
    if (m[1] !== undefined) seen.add(m[1]);
  }
  return [...seen];
}

export interface RenderedText {
  text: string;
  /** Placeholders without a value, in order of first appearance. */
  missing: string[];
}

/**
 * UTF-8 bytes a render may still produce, shared by every text of one render. Rendering stops as
 * soon as the output would exceed it, so an oversized result is never built.
 */
/** Pieces (literal runs and placeholders) rendered between two pauses of an async render. */
const SLICE = 4096;

export class RenderBudget {
  private used = 0;
  private pieces = 0;

  constructor(readonly maxBytes: number) {}

  get usedBytes(): number {
    return this.used;
  }

  /** Counts `bytes` more against the budget; throws RenderBudgetExceededError past it. */
  spend(bytes: number): void {
    this.used += bytes;
    if (this.used > this.maxBytes) throw new RenderBudgetExceededError(this.maxBytes, this.used);
  }

  /** True once every SLICE pieces over all texts of the render: time to let other work run. */
  pause(): boolean {
    return ++this.pieces % SLICE === 0;
  }
}

/** UTF-8 length of a string (a lone surrogate counts as the 3 bytes of U+FFFD, as Buffer does). */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      // A surrogate pair: 2 UTF-16 units, 4 bytes.
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 2;
        i++;
      } else bytes += 2;
    } else bytes += 2;
  }
  return bytes;
}

export class RenderBudgetExceededError extends Error {
  constructor(
    readonly maxBytes: number,
    /** Bytes produced when rendering stopped (more than maxBytes; not the full size). */
    readonly reachedBytes: number,
  ) {
    super(`rendered output exceeds ${maxBytes} bytes`);
    this.name = 'RenderBudgetExceededError';
  }
}

export function renderTemplate(
  template: string,
  variables: TemplateVariables,
  budget = new RenderBudget(Number.POSITIVE_INFINITY),
): RenderedText {
  const steps = renderSteps(template, variables, budget);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** As renderTemplate, yielding to the event loop between slices of work, so a large render never blocks it. */
export async function renderTemplateAsync(
  template: string,
  variables: TemplateVariables,
  budget = new RenderBudget(Number.POSITIVE_INFINITY),
): Promise<RenderedText> {
  const steps = renderSteps(template, variables, budget);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function* renderSteps(
  template: string,
  variables: TemplateVariables,
  budget: RenderBudget,
): Generator<void, RenderedText> {
  const missing = new Set<string>();
  const parts: string[] = [];
  // A variable may be used many times: convert it and count its bytes once.
  const values = new Map<string, { text: string; bytes: number }>();
  let last = 0;
  const emit = (piece: string, bytes = utf8Length(piece)): void => {
    budget.spend(bytes);
    parts.push(piece);
  };
  for (const m of template.matchAll(TOKEN)) {
    const token = m[0];
    const name = m[1];
    if (m.index > last) emit(template.slice(last, m.index));
    last = m.index + token.length;
    if (name === undefined) emit(token === '{{' ? '{' : '}', 1);
    else if (!Object.prototype.hasOwnProperty.call(variables, name)) {
      missing.add(name);
      emit(token);
    } else {
      let value = values.get(name);
      if (value === undefined) {
        const text = String(variables[name]);
        value = { text, bytes: utf8Length(text) };
        values.set(name, value);
      }
      emit(value.text, value.bytes);
    }
    if (budget.pause()) yield;
  }
  if (last < template.length) emit(template.slice(last));
  return { text: parts.join(''), missing: [...missing] };
}
