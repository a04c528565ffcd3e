/**
 * The local stack's two secrets, created by the first `npm start` and reused by every later one, in
 * the git-ignored `.local/` folder as files only their owner can read:
 *  - `key-pepper`: the pepper of every API key hash (`LLMOPS_KEY_PEPPER`, the same in every service),
 *    32 random bytes, base64url;
 *  - `dev-admin-key`: the operator's key (`LLMOPS_ADMIN_KEY`), which the identity service stores at
 *    boot with every scope in project `default` plus `platform:admin`.
 * `LLMOPS_KEY_PEPPER` or `LLMOPS_ADMIN_KEY` set in the environment win over the files, and no file is
 * written for them.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { generateApiKey, parseApiKey } from '@llmops/hashing';
import { LOCAL_DIR, REPO_ROOT } from './launcher';

export const KEY_PEPPER_FILE = 'key-pepper';
export const DEV_ADMIN_KEY_FILE = 'dev-admin-key';
/** Where `npm start` keeps the local admin key (the demo and the README's curl examples read it). */
export const DEV_ADMIN_KEY_PATH = join(LOCAL_DIR, DEV_ADMIN_KEY_FILE);
const MIN_PEPPER_LENGTH = 32;

export interface LocalSecret {
  value: string;
  /** `env`: from the environment; `file`: read from `path`; `created`: written to `path` by this call. */
  source: 'env' | 'file' | 'created';
  path?: string;
}

export interface LocalSecrets {
  pepper: LocalSecret;
  adminKey: LocalSecret & { keyId: string };
}

export function ensureLocalSecrets(
  env: Record<string, string | undefined> = process.env,
  dir: string = LOCAL_DIR,
): LocalSecrets {
  const pepper = secret(env.LLMOPS_KEY_PEPPER, 'LLMOPS_KEY_PEPPER', join(dir, KEY_PEPPER_FILE), {
    create: () => randomBytes(32).toString('base64url'),
    valid: (v) => v.length >= MIN_PEPPER_LENGTH,
    expected: `a pepper of at least ${MIN_PEPPER_LENGTH} characters`,
    ifReplaced: 'keys created with the old pepper then stop working; the dev admin key is stored again',
  });
  const adminKey = secret(env.LLMOPS_ADMIN_KEY, 'LLMOPS_ADMIN_KEY', join(dir, DEV_ADMIN_KEY_FILE), {
    create: () => generateApiKey().key,
    valid: (v) => parseApiKey(v) !== undefined,
    expected: 'an API key llmk_<20 lowercase hex>_<43 base64url characters>',
    ifReplaced: 'revoke the old key through the identity service if it still exists',
  });
  return { pepper, adminKey: { ...adminKey, keyId: parseApiKey(adminKey.value)!.keyId } };
}

function secret(
  fromEnv: string | undefined,
  variable: string,
  path: string,
  rule: { create: () => string; valid: (v: string) => boolean; expected: string; ifReplaced: string },
): LocalSecret {
  if (fromEnv !== undefined) {
    if (!rule.valid(fromEnv)) throw new Error(`${variable} (from the environment) is not ${rule.expected}`);
    return { value: fromEnv, source: 'env' };
  }
  if (existsSync(path)) {
    const value = readFileSync(path, 'utf8').trim();
    if (!rule.valid(value)) {
      throw new Error(
        `${shown(path)} is not ${rule.expected}. Delete it to get a new one (${rule.ifReplaced}), or set ${variable}.`,
      );
    }
    return { value, source: 'file', path };
  }
  const value = rule.create();
  mkdirSync(join(path, '..'), { recursive: true });
  // `wx`: never overwrite a file another process just wrote; 0600: the owner's secret.
  writeFileSync(path, `${value}\n`, { mode: 0o600, flag: 'wx' });
  return { value, source: 'created', path };
}

/** A path as the user would type it from the repository root. */
export function shown(path: string): string {
  const rel = relative(REPO_ROOT, path);
  return rel.startsWith('..') ? path : rel;
}
