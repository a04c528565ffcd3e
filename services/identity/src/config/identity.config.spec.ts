import { generateApiKey } from '@llmops/hashing';
import { ConfigError } from '@llmops/platform';
import { loadIdentityConfig } from './identity.config';

const PEPPER = 'p'.repeat(32);

function problemsOf(env: Record<string, string>): string {
  try {
    loadIdentityConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('expected a configuration error');
}

describe('identity configuration', () => {
  it('defaults to port 3005 and database llmops_identity, and requires the pepper', () => {
    const config = loadIdentityConfig({ LLMOPS_KEY_PEPPER: PEPPER });
    expect(config).toMatchObject({ PORT: 3005, MONGODB_DB: 'llmops_identity' });
    expect(config.LLMOPS_ADMIN_KEY).toBeUndefined();
    expect(problemsOf({})).toContain('LLMOPS_KEY_PEPPER');
  });

  it('accepts an admin key in the key format', () => {
    const { key } = generateApiKey();
    expect(loadIdentityConfig({ LLMOPS_KEY_PEPPER: PEPPER, LLMOPS_ADMIN_KEY: key }).LLMOPS_ADMIN_KEY).toBe(
      key,
    );
  });

  it('names a bad admin key or pepper without printing either value', () => {
    const almostKey = `${generateApiKey().key}x`;
    const shortPepper = 'secret-pepper-too-short';
    const message = problemsOf({ LLMOPS_KEY_PEPPER: shortPepper, LLMOPS_ADMIN_KEY: almostKey });
    expect(message).toContain('LLMOPS_ADMIN_KEY');
    expect(message).toContain('LLMOPS_KEY_PEPPER');
    expect(message).not.toContain(almostKey.slice(5));
    expect(message).not.toContain(shortPepper);
  });
});
