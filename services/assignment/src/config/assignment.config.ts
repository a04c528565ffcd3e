/** The only place this service reads process.env: validated at boot, every bad variable listed. */
import { baseServiceConfig, type EnvSource, loadConfig } from '@llmops/platform';

export const assignmentConfigSchema = baseServiceConfig(3002, 'assignment');

export type AssignmentConfig = ReturnType<typeof loadAssignmentConfig>;

export function loadAssignmentConfig(env: EnvSource = process.env) {
  return loadConfig(assignmentConfigSchema, env);
}
