import { createEvent, EVENT_SOURCES, EVENT_TYPES, parseEvent, serializeEvent } from '@llmops/contracts';
import { createRedactor } from '@llmops/platform';
import { variedGenerationBodies } from '../../test/support/varied-requests';
import { logGenerationRequestSchema } from './dto/log-generation.request';
import { buildGenerationEvent, redactGeneration } from './generation-event';

const AT = '2025-03-01T00:00:00.000Z';

describe('generation event (hand-built envelope)', () => {
  it.each([
    [false, 'default'],
    [true, 'default'],
    [false, 'team-b'],
    [true, 'team-b'],
  ])(
    'equals what createEvent builds and validates, for 500 varied requests (redaction %s, project %s)',
    (redaction, project) => {
      const redact = createRedactor(redaction);
      for (const req of variedGenerationBodies(500).map((b) => logGenerationRequestSchema.parse(b))) {
        const keyed = buildGenerationEvent(req, AT, redact, project);
        const reference = createEvent(
          EVENT_TYPES.generationLogged,
          { ...redactGeneration(req, redact), timestamp: req.timestamp ?? AT, receivedAt: AT },
          { source: EVENT_SOURCES.feedback, id: `gen:${req.requestId}`, time: req.timestamp ?? AT, project },
        );
        expect(keyed.event).toEqual(reference);
        expect(keyed.value).toBe(serializeEvent(reference)); // byte for byte, key order included
        expect(parseEvent(keyed.value)).toEqual(reference);
        expect(keyed.key).toBe(req.requestId);
        expect(keyed.event.project).toBe(project);
      }
    },
  );
});
