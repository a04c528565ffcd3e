export { LlmopsClient, type ClientMetrics } from './client';
export { LlmopsError, LlmopsHttpError, LlmopsUnavailableError, LlmopsValidationError } from './errors';
export type { AssignResult, ExperimentsApi, ExposureItem } from './experiments';
export type {
  Feedback,
  FeedbackApi,
  FeedbackInput,
  Generation,
  GenerationInput,
  GenerationsApi,
} from './ingestion';
export type { BufferOptions, FlushResult, OverflowPolicy, RejectedItem } from './ingestion-queue';
export { DEFAULT_URLS, type LlmopsClientOptions, type ServiceName, SERVICES } from './options';
export type {
  GetPromptOptions,
  GetPromptResult,
  PromptsApi,
  PromptVersion,
  RenderResult,
  Served,
} from './prompts';
export { backoffDelay, retryAfterMs, type RetryOptions } from './retry';
export { type ExperimentResults, renderResults, verdict } from './results-table';
export type { AssignResponse, Attributes } from '@llmops/experiments';
export type { RenderableSpec, RenderedPrompt, TemplateVariables } from '@llmops/prompts';
