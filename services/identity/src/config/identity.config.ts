/** The only place this service reads process.env: validated at boot, every bad variable listed. */
import { parseApiKey } from '@llmops/hashing';
import { baseServiceConfig, env, type EnvSource, loadConfig } from '@llmops/platform';
import { z } from 'zod';

export const identityConfigSchema = baseServiceConfig(3005, 'identity').extend({
  /** Required here (optional elsewhere with AUTH_ENABLED=false): the identity service hashes every secret it issues. */
  LLMOPS_KEY_PEPPER: z.string().min(32, 'expected at least 32 characters'),
  /**
   * The operator's first key (`llmk_<keyId>_<secret>`): at boot it is stored and published with every
   * scope in project `default` plus `platform:admin`. Unset = no bootstrap key.
   */
  LLMOPS_ADMIN_KEY: z
    .string()
    .optional()
    .refine((v) => v === undefined || parseApiKey(v) !== undefined, {
      message: 'expected an API key llmk_<20 lowercase hex>_<43 base64url characters>',
    }),
  /** Consume the audit topic into the audit store (off only for a replica that serves keys alone). */
  IDENTITY_AUDIT_CONSUMER_ENABLED: env.bool(true),
  /** Consumer group of the audit store; the replicas share it (each record is stored once, by event id). */
  IDENTITY_AUDIT_CONSUMER_GROUP: env.string('llmops-identity-audit'),
  /** A key's stored last-used time is written at most this often per replica (it is coarse on purpose). */
  IDENTITY_KEY_USAGE_RESOLUTION_MS: env.int(60_000, 0, 86_400_000),
});

export type IdentityConfig = ReturnType<typeof loadIdentityConfig>;

export function loadIdentityConfig(source: EnvSource = process.env) {
  return loadConfig(identityConfigSchema, withoutSecretValues(source));
}

/**
 * A configuration error shows each bad variable's value: an invalid admin key or pepper is replaced
 * by a placeholder the schema refuses too, so the error names the variable but never prints a secret.
 */
function withoutSecretValues(source: EnvSource): EnvSource {
  const { LLMOPS_ADMIN_KEY: adminKey, LLMOPS_KEY_PEPPER: pepper } = source;
  const badKey = adminKey !== undefined && parseApiKey(adminKey) === undefined;
  const badPepper = pepper !== undefined && pepper.length < 32;
  if (!badKey && !badPepper) return source;
  return {
    ...source,
    ...(badKey ? { LLMOPS_ADMIN_KEY: '(malformed, not shown)' } : {}),
    ...(badPepper ? { LLMOPS_KEY_PEPPER: `(${pepper.length} characters, not shown)` } : {}),
  };
}
