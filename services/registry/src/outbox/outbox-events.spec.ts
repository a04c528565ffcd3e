import type { UnpublishedVersion } from '../persistence/prompt-version.repository';
import { EventNotPublishableError, publishableMessage, versionMessage } from './outbox-events';

const HASH = 'ab'.repeat(32);

const version = (over: Partial<UnpublishedVersion> = {}): UnpublishedVersion => ({
  id: `p/${HASH}`,
  name: 'p',
  hash: HASH,
  shortHash: HASH.slice(0, 12),
  version: 1,
  spec: { template: 'Hi {x}', model: 'm' },
  createdAt: '2026-01-01T00:00:00.000Z',
  ...over,
});

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (err) {
    return err;
  }
  throw new Error('did not throw');
}

describe('publishableMessage', () => {
  it('returns the message of a record that passes its contract and fits', () => {
    const message = publishableMessage(version(), versionMessage, 64 * 1024);
    expect(message.key).toBe('p');
    expect(JSON.parse(String(message.value))).toMatchObject({
      id: `prompt-version/p/${HASH}`,
      data: { hash: HASH },
    });
  });

  it('refuses a record that fails the event contract, with the contract issues', () => {
    const err = thrown(() => publishableMessage(version({ hash: 'nope' }), versionMessage, 64 * 1024));
    expect(err).toBeInstanceOf(EventNotPublishableError);
    expect(err).toMatchObject({
      reason: 'contract',
      issues: expect.arrayContaining([expect.objectContaining({ path: 'data.hash' })]),
    });
  });

  it('refuses a record whose serialized event is over the limit', () => {
    const spec = { template: 'x'.repeat(2_000), model: 'm' };
    const err = thrown(() => publishableMessage(version({ spec }), versionMessage, 1_024));
    expect(err).toMatchObject({ reason: 'too_large', bytes: expect.any(Number) });
    expect((err as EventNotPublishableError).bytes).toBeGreaterThan(2_000);
  });

  it('refuses a record too deep to validate or serialize (stack overflow)', () => {
    const err = thrown(() =>
      publishableMessage(
        version(),
        () => {
          throw new RangeError('Maximum call stack size exceeded');
        },
        1_024,
      ),
    );
    expect(err).toMatchObject({ reason: 'too_deep' });
  });

  it('lets other errors through', () => {
    const boom = new Error('boom');
    expect(
      thrown(() =>
        publishableMessage(
          version(),
          () => {
            throw boom;
          },
          1_024,
        ),
      ),
    ).toBe(boom);
  });
});
