import { ConfigError } from '@llmops/platform';
import { DEFAULT_FEEDBACK_ID_KEY, loadFeedbackConfig } from './feedback.config';

describe('feedback config: FEEDBACK_ID_KEYS', () => {
  it('defaults to the public development key outside production', () => {
    expect(loadFeedbackConfig({}).FEEDBACK_ID_KEYS).toEqual([DEFAULT_FEEDBACK_ID_KEY]);
    expect(loadFeedbackConfig({ NODE_ENV: 'test' }).FEEDBACK_ID_KEYS).toEqual([DEFAULT_FEEDBACK_ID_KEY]);
  });

  it('refuses the public default key with NODE_ENV=production, also as one key of several', () => {
    expect(() => loadFeedbackConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() =>
      loadFeedbackConfig({
        NODE_ENV: 'production',
        FEEDBACK_ID_KEYS: `secret-key-1,${DEFAULT_FEEDBACK_ID_KEY}`,
      }),
    ).toThrow(/FEEDBACK_ID_KEYS: the public default key is not allowed with NODE_ENV=production/);
    const config = loadFeedbackConfig({ NODE_ENV: 'production', FEEDBACK_ID_KEYS: 'secret-key-1' });
    expect(config.FEEDBACK_ID_KEYS).toEqual(['secret-key-1']);
  });

  it('takes a trimmed, comma-separated list (the first key issues) and refuses short keys', () => {
    expect(loadFeedbackConfig({ FEEDBACK_ID_KEYS: ' new-key-2 , old-key-1 ' }).FEEDBACK_ID_KEYS).toEqual([
      'new-key-2',
      'old-key-1',
    ]);
    expect(() => loadFeedbackConfig({ FEEDBACK_ID_KEYS: 'new-key-2,short' })).toThrow(
      /at least 8 characters/,
    );
    expect(() => loadFeedbackConfig({ FEEDBACK_ID_KEYS: 'new-key-2,' })).toThrow(/at least 8 characters/);
  });
});
