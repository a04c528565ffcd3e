/** The only place this service reads process.env: validated at boot, every bad variable listed. */
import { baseServiceConfig, type EnvSource, loadConfig } from '@llmops/platform';

export const analyticsConfigSchema = baseServiceConfig(3004, 'analytics');

export type AnalyticsConfig = ReturnType<typeof loadAnalyticsConfig>;

export function loadAnalyticsConfig(env: EnvSource = process.env) {
  return loadConfig(analyticsConfigSchema, env);
}
