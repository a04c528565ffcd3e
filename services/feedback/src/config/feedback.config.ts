/** The only place this service reads process.env: validated at boot, every bad variable listed. */
import { baseServiceConfig, type EnvSource, loadConfig } from '@llmops/platform';

export const feedbackConfigSchema = baseServiceConfig(3003, 'feedback');

export type FeedbackConfig = ReturnType<typeof loadFeedbackConfig>;

export function loadFeedbackConfig(env: EnvSource = process.env) {
  return loadConfig(feedbackConfigSchema, env);
}
