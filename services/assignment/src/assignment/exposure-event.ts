/**
 * The exposure record of one assignment, written from an `ExposureTemplate`: everything but the
 * user, the event id and the time is the same for every exposure of one arm of one experiment
 * phase, so it is serialized once (a measured win over building and validating the event per
 * request; see the README's benchmarks). exposure-event.spec.ts checks the text against the schema
 * path, `serializeEvent(createEvent(...))`, byte for byte on random inputs, so a stricter contract
 * fails the spec instead of diverging.
 */
import {
  CLOUDEVENTS_CONTENT_TYPE,
  envelopeWriter,
  EVENT_SOURCES,
  EVENT_TYPES,
  exposureKey,
  HEADER_CONTENT_TYPE,
} from '@llmops/contracts';
import type { Assignment, CompiledArm, CompiledExperiment } from '@llmops/experiments';
import { eventTime, type OutgoingMessage, uuidv7 } from '@llmops/platform';
import { Injectable } from '@nestjs/common';

const TYPE = EVENT_TYPES.exposure;
const SOURCE = EVENT_SOURCES.assignment;

export interface ExposureInput {
  /** The experiment's project: the envelope's `project`. */
  project: string;
  experiment: string;
  phase: number;
  hashVersion: number;
  arm: CompiledArm;
  reason: 'hash' | 'forced';
  userId: string;
}

const writeEnvelope = envelopeWriter(TYPE, SOURCE);

/** The exposures of one arm, reason and phase of one experiment, from precomputed JSON. */
export class ExposureTemplate {
  private readonly project: string;
  private readonly experiment: string;
  /** `data` up to the user id's value, and from after it to the assignment time's value. */
  private readonly dataHead: string;
  private readonly dataMiddle: string;

  constructor(fixed: Omit<ExposureInput, 'userId'>) {
    const j = JSON.stringify;
    this.project = fixed.project;
    this.experiment = fixed.experiment;
    this.dataHead = `{"experiment":${j(fixed.experiment)},"phase":${j(fixed.phase)},"arm":${j(fixed.arm.name)},"userId":`;
    this.dataMiddle =
      `,"prompt":{"name":${j(fixed.arm.prompt.name)},"hash":${j(fixed.arm.prompt.hash)}}` +
      `,"hashVersion":${j(fixed.hashVersion)},"reason":${j(fixed.reason)},"assignedAt":`;
  }

  /**
   * The record of `userId`'s exposure at `ms` (Unix milliseconds), keyed `${experiment}:${userId}`
   * so one user's exposures to one experiment share a partition. `headers`: the request's context
   * headers (`contextHeaders(ctx)`).
   */
  message(userId: string, headers: Record<string, string>, ms: number): OutgoingMessage {
    const time = eventTime(ms);
    // An ISO 8601 time has nothing to escape: `"${time}"` is JSON.stringify(time).
    const data = `${this.dataHead}${JSON.stringify(userId)}${this.dataMiddle}"${time}"}`;
    return {
      key: exposureKey(this.experiment, userId),
      value: writeEnvelope(uuidv7(ms), time, data, this.project),
      headers: { [HEADER_CONTENT_TYPE]: CLOUDEVENTS_CONTENT_TYPE, ...headers },
    };
  }
}

/** An assignment whose user is in the experiment: it has an exposure. */
export type ExposedAssignment = Assignment & { exposed: CompiledArm };

export function isExposed(a: Assignment): a is ExposedAssignment {
  return a.exposed !== undefined;
}

/**
 * The exposure record of an in-experiment assignment, for server-side assignments and verified
 * client-side exposures alike, so both are the same record.
 */
@Injectable()
export class ExposureMessages {
  /**
   * The exposure template of each in-experiment Assignment. A CompiledExperiment makes one frozen
   * Assignment per (arm, reason) of one snapshot, so project, experiment, phase, hashVersion, arm
   * and reason are fixed for each key; a recompiled experiment has new Assignments, and the old ones
   * (with their templates) are collected.
   */
  private readonly templates = new WeakMap<Assignment, ExposureTemplate>();

  message(
    experiment: CompiledExperiment,
    assignment: ExposedAssignment,
    userId: string,
    headers: Record<string, string>,
    ms: number,
  ): OutgoingMessage {
    let template = this.templates.get(assignment);
    if (!template) {
      const s = experiment.snapshot;
      template = new ExposureTemplate({
        project: experiment.project,
        experiment: s.key,
        phase: s.phase,
        hashVersion: s.hashVersion,
        arm: assignment.exposed,
        reason: assignment.response.reason === 'forced' ? 'forced' : 'hash',
      });
      this.templates.set(assignment, template);
    }
    return template.message(userId, headers, ms);
  }
}
