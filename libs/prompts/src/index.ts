export {
  RenderBudget,
  RenderBudgetExceededError,
  renderTemplate,
  renderTemplateAsync,
  templateVariables,
  utf8Length,
  type RenderedText,
  type TemplateVariables,
} from './template';
export {
  renderSpec,
  specVariables,
  type JsonObject,
  type PromptMessage,
  type RenderableSpec,
  type RenderedPrompt,
} from './render-spec';
