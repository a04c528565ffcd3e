import { z } from 'zod';
import { AUDIT_ACTIONS } from '../auth';
import { projectId } from '../project';
import { doc, type SchemaKit, STRICT_KIT } from './common.schema';
import { opaqueId, text } from './text.schema';

export const AUDIT_RECORDED = 'io.llmops.audit.recorded.v1';

/** Longest `note` (what a caller's `x-actor` header used to carry). */
export const AUDIT_NOTE_MAX_LENGTH = 256;

const detailValue = () =>
  z.union([text('a string', 1024), z.number(), z.boolean(), z.null()], {
    error: 'expected a string, finite number, boolean or null',
  });

/**
 * `io.llmops.audit.recorded.v1` on `llmops.audit.v1` (key: project).
 *
 * One change made through the platform's APIs, recorded by the service that made it after the
 * change succeeded: who (`actor`: the authenticated key id, `system:<name>` for the platform
 * itself, or `decision:<event id>` for a change made on an experiment decision) did what (`action`) to which resource (`resource`: `summarizer@<hash>`,
 * `summarizer/production`, `<experiment key>`, `<keyId>`, `<project>`) in which project. The
 * envelope `id` is unique per change; the identity service stores the trail and serves it.
 */
export const buildAuditRecordedData = (k: SchemaKit) =>
  k.object({
    project: doc(projectId(), 'Project the change belongs to.'),
    actor: doc(
      opaqueId('actor', 256),
      'Authenticated key id, system:<name> for the platform itself, or decision:<event id> for a change made on an experiment decision.',
    ),
    action: z.enum(AUDIT_ACTIONS, { error: `expected one of ${AUDIT_ACTIONS.join(', ')}` }),
    resource: doc(opaqueId('resource', 512), 'Id of the changed resource.'),
    details: doc(
      z
        .record(opaqueId('detail name', 64), detailValue(), { error: 'expected a flat JSON object' })
        .refine((d) => Object.keys(d).length <= 32, { error: 'expected at most 32 details' }),
      'Small flat object: detail name -> string, number, boolean or null.',
    ).optional(),
    note: doc(
      text('a note', AUDIT_NOTE_MAX_LENGTH),
      `Free text from the caller, at most ${AUDIT_NOTE_MAX_LENGTH} characters.`,
    ).optional(),
  });

export const AuditRecordedDataSchema = buildAuditRecordedData(STRICT_KIT);
export type AuditRecordedData = z.infer<typeof AuditRecordedDataSchema>;
