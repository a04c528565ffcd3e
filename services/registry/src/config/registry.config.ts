/** The only place this service reads process.env: validated at boot, every bad variable listed. */
import { baseServiceConfig, type EnvSource, loadConfig } from '@llmops/platform';

export const registryConfigSchema = baseServiceConfig(3001, 'registry');

export type RegistryConfig = ReturnType<typeof loadRegistryConfig>;

export function loadRegistryConfig(env: EnvSource = process.env) {
  return loadConfig(registryConfigSchema, env);
}
