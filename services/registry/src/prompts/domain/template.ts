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

export function renderTemplate(template: string, variables: TemplateVariables): RenderedText {
  const missing: string[] = [];
  const text = template.replace(TOKEN, (token: string, name: string | undefined) => {
    if (name === undefined) return token === '{{' ? '{' : '}';
    if (!Object.prototype.hasOwnProperty.call(variables, name)) {
      if (!missing.includes(name)) missing.push(name);
      return token;
    }
    return String(variables[name]);
  });
  return { text, missing };
}
