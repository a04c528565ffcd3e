import { ContractValidationError } from '@llmops/contracts';
import { ValidationFailedError } from '@llmops/platform';
import { EventNotPublishableError } from '../outbox/outbox-events';
import { notPublishableError } from './prompts.errors';

describe('notPublishableError', () => {
  it('maps contract issues to request paths in a 400 validation_failed', () => {
    const cause = new ContractValidationError([
      { path: 'data.spec.params.x', message: 'expected well-formed text' },
    ]);
    const err = notPublishableError(
      new EventNotPublishableError('contract', cause.message, cause.issues),
      'io.llmops.prompt.version.registered.v1',
      1_024,
    );
    expect(err).toBeInstanceOf(ValidationFailedError);
    expect(err).toMatchObject({
      status: 400,
      code: 'validation_failed',
      details: { issues: [{ path: 'spec.params.x', message: 'expected well-formed text' }] },
    });
    expect(err.message).toMatch(/io\.llmops\.prompt\.version\.registered\.v1 event/);
  });

  it('maps a too large event to 413 event_too_large', () => {
    const err = notPublishableError(new EventNotPublishableError('too_large', 'big', [], 2_048), 't', 1_024);
    expect(err).toMatchObject({
      status: 413,
      code: 'event_too_large',
      details: { bytes: 2_048, maxBytes: 1_024 },
    });
  });

  it('maps a too deep event to 400 with a message', () => {
    const err = notPublishableError(
      new EventNotPublishableError('too_deep', 'the event is nested too deeply'),
      't',
      1,
    );
    expect(err).toMatchObject({ status: 400, code: 'validation_failed' });
  });
});
