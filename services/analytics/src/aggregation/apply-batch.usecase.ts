/**
 * Applies one consumed partition batch exactly once: parse -> plan (pure, in memory) -> one
 * partition journal link (with the rare parked feedback and arms directory inserts) + one insert of
 * bucket versions. Any write conflict discards the partition's cached state; the platform consumer
 * retries the batch, which then plans against a fresh load.
 *
 * Poison is returned in `rejected` (the consumer dead-letters it, with the reason) whenever it can
 * be recognised in memory: a record that fails its contract or throws while being parsed (e.g. a
 * stack overflow on deep nesting), and one whose contribution the planner refuses (a non-finite
 * aggregate). Only what the database alone notices makes the batch fail, and the consumer then
 * isolates the record.
 */
import { Inject, Injectable } from '@nestjs/common';
import {
  EVENT_TYPES,
  type AnyCloudEvent,
  type EventType,
  precompileEventChecks,
  projectOf,
  safeParseEvent,
} from '@llmops/contracts';
import {
  type ConsumedMessage,
  describeFailure,
  LOGGER,
  type RejectedMessage,
  SERVICE_CONFIG,
} from '@llmops/platform';
import type { Logger } from 'pino';
import { type BatchPlan, type Outcome, type PlannedEvent, planBatch } from '../domain/batch-planner';
import type { SourceKind } from '../domain/bucket';
import { journalOf, type PartitionState } from '../domain/partition-state';
import { phaseStartMinute, type PhaseStarts } from '../domain/phase-rollup';
import { experimentScope } from '../domain/project-scope';
import type { AnalyticsConfig } from '../config/analytics.config';
import { AnalyticsMetrics } from '../metrics/analytics-metrics';
import { AggregationRepository } from '../persistence/aggregation.repository';
import { BatchGate } from './batch-gate';
import { type ExperimentSnapshotInput, ExperimentsRepository } from '../persistence/experiments.repository';

/** The topic a batch was consumed from. */
export type TopicRole = 'exposures' | 'generations' | 'feedback' | 'experiments';

export interface BatchInput {
  role: TopicRole;
  partition: number;
  messages: ConsumedMessage[];
  /**
   * The consumer's join of its group the batch comes in (`BatchContext.groupJoins`). A partition's
   * state cached in an earlier join is loaded again: in between, another member may have owned the
   * partition and consumed another of its topics, which a gap in this topic's offsets cannot show.
   */
  groupJoins?: number;
}

export interface BatchObserver {
  /** Per event: type (exposure, generation, feedback, experiment, invalid) and outcome. */
  event(type: string, outcome: Outcome | 'invalid' | 'applied', count?: number): void;
  /** MongoDB commands sent for this batch. */
  commands(n: number): void;
  /** After a batch changed aggregates (metrics refresh is debounced on this). */
  changed(): void;
  /** Requests a partition forgot past the request retention, before a batch. */
  requestsForgotten(n: number): void;
  /** After each batch: the requests held by the partitions of this instance. */
  requestsHeld(n: number): void;
}

const TYPE_OF_ROLE: Record<Exclude<TopicRole, 'experiments'>, EventType> = {
  exposures: EVENT_TYPES.exposure,
  generations: EVENT_TYPES.generationLogged,
  feedback: EVENT_TYPES.feedbackSubmitted,
};

/** How long the experiments' phase starts read for the phase roll-ups are used before being read again. */
export const PHASE_STARTS_TTL_MS = 1_000;

const MS_PER_HOUR = 3_600_000;

const SOURCE_OF_ROLE: Record<Exclude<TopicRole, 'experiments'>, SourceKind> = {
  exposures: 'x',
  generations: 'g',
  feedback: 'f',
};

@Injectable()
export class ApplyBatchUseCase {
  private readonly states = new Map<number, PartitionState>();
  private readonly loading = new Map<number, Promise<PartitionState>>();
  /** The group join each cached partition state was loaded in. */
  private readonly loadedIn = new Map<number, number | undefined>();
  private readonly gate = new BatchGate();
  /** Experiment scope -> the first minute of its current phase, as read at `phasesReadAt`. */
  private phaseStarts = new Map<string, number>();
  private phasesReadAt = -Infinity;
  private phasesReading: Promise<void> | null = null;
  /** Counts the experiment batches applied: a read of the starts begun before one is not fresh. */
  private phasesEpoch = 0;
  /** ANALYTICS_REQUEST_RETENTION_HOURS in ms; 0: every request is kept. */
  private readonly requestRetentionMs: number;

  constructor(
    private readonly aggregation: AggregationRepository,
    private readonly experiments: ExperimentsRepository,
    @Inject(AnalyticsMetrics) private readonly observer: BatchObserver,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(SERVICE_CONFIG) config: Pick<AnalyticsConfig, 'ANALYTICS_REQUEST_RETENTION_HOURS'>,
  ) {
    this.requestRetentionMs = config.ANALYTICS_REQUEST_RETENTION_HOURS * MS_PER_HOUR;
    // At boot, not in the first batch.
    precompileEventChecks([
      ...Object.values(TYPE_OF_ROLE),
      EVENT_TYPES.experimentCreated,
      EVENT_TYPES.experimentUpdated,
      EVENT_TYPES.experimentStatusChanged,
    ]);
  }

  /** Applies one partition batch; it waits while a task runs alone (`whileNoBatchRuns`). */
  execute(input: BatchInput): Promise<{ rejected: RejectedMessage[] }> {
    return this.gate.batch(() => this.apply(input));
  }

  /**
   * Runs `task` while no batch runs: it starts once the batches in flight have ended, and the
   * batches that arrive meanwhile wait until it ends (see BatchGate).
   */
  whileNoBatchRuns<T>(task: () => Promise<T>): Promise<T> {
    return this.gate.exclusive(task);
  }

  private async apply(input: BatchInput): Promise<{ rejected: RejectedMessage[] }> {
    if (input.role === 'experiments') {
      const { parsed, rejected } = this.parse(input);
      await this.applyExperiments(parsed.map((p) => p.event));
      return { rejected };
    }

    const first = Number(input.messages[0].offset);
    const last = Number(input.messages[input.messages.length - 1].offset);
    const source = SOURCE_OF_ROLE[input.role];
    // Read before the state: a failed read of the experiments leaves the cached state as it is.
    const phases = await this.phases();
    // The batch's time: the request retention's clock, and its journal link's `at`.
    const now = Date.now();
    const state = await this.stateFor(input.partition, source, first, input.groupJoins, now);
    if (this.requestRetentionMs > 0) {
      const forgotten = state.requests.rotate(now, this.requestRetentionMs);
      if (forgotten > 0) this.observer.requestsForgotten(forgotten);
    }
    try {
      const { plan, rejected } = this.plan(input, state, phases);
      const head = state.journalHeads.get(source) ?? -1;
      const link = journalOf(state.part, source, head, last, plan.additions, new Date(now));
      if (plan.phasesNotEstablished)
        this.logger.warn(
          { partition: input.partition, role: input.role, experiments: plan.phasesNotEstablished },
          'phase roll-ups not established: a bucket is past the batch (another writer); a later batch will',
        );
      const commands = await this.aggregation.write(plan, link);
      if (link) state.journalHeads.set(source, link.lastOffset);
      state.expected.set(source, last + 1);
      this.observer.commands(commands);
      const counts = new Map<string, number>();
      for (const o of plan.outcomes)
        counts.set(`${o.type}\u0000${o.outcome}`, (counts.get(`${o.type}\u0000${o.outcome}`) ?? 0) + 1);
      for (const [k, n] of counts) {
        const [type, outcome] = k.split('\u0000') as [string, Outcome];
        this.observer.event(type, outcome, n);
      }
      if (plan.buckets.length > 0) this.observer.changed();
      let held = 0;
      for (const s of this.states.values()) held += s.requests.size;
      this.observer.requestsHeld(held);
      return { rejected };
    } catch (err) {
      // The cached state may now disagree with MongoDB (partial write, or another writer): reload.
      this.states.delete(input.partition);
      this.logger.warn(
        {
          partition: input.partition,
          role: input.role,
          err: err instanceof Error ? err.message : String(err),
        },
        'aggregation batch failed; partition state discarded, batch will be retried',
      );
      throw err;
    }
  }

  /**
   * Parses the batch's records and plans them against `state`, in one synchronous call: the parsed
   * events are garbage once it returns (the plan keeps no event object, only the strings and
   * numbers it copied from them, and objects of its own). Held across the batch's writes (two round
   * trips while the other lanes run), a fetch's parsed events would survive the young generation's
   * collections and be copied, then promoted, into the old one. Its rejected records are counted
   * (`invalid`) once the partition's state is loaded, so an attempt whose load fails counts none.
   */
  private plan(
    input: BatchInput,
    state: PartitionState,
    phases: PhaseStarts,
  ): { plan: BatchPlan; rejected: RejectedMessage[] } {
    const { parsed, rejected } = this.parse(input);
    const events: PlannedEvent[] = parsed.map(({ message, event }) =>
      toPlanned(event, Number(message.offset)),
    );
    const plan = planBatch(state, events, phases);
    if (plan.rejected && plan.rejected.length > 0) {
      const refused = new Map(plan.rejected.map((r) => [r.offset, r.reason]));
      for (const { message } of parsed) {
        const reason = refused.get(Number(message.offset));
        if (reason !== undefined) rejected.push({ message, error: reason });
      }
    }
    return { plan, rejected };
  }

  /** The batch's events, and its poison: records that fail their contract or this topic's type. */
  private parse(input: BatchInput): {
    parsed: Array<{ message: ConsumedMessage; event: AnyCloudEvent }>;
    rejected: RejectedMessage[];
  } {
    const rejected: RejectedMessage[] = [];
    const parsed: Array<{ message: ConsumedMessage; event: AnyCloudEvent }> = [];
    for (const message of input.messages) {
      let result: ReturnType<typeof safeParseEvent> | null;
      try {
        result = message.value ? safeParseEvent(message.value, { tolerateUnknownFields: true }) : null;
      } catch (err) {
        rejected.push({ message, error: describeFailure(err) });
        continue;
      }
      if (!result || !result.ok) {
        rejected.push({ message, error: result ? result.error.message : 'empty record value' });
        continue;
      }
      if (!isExpected(input.role, result.event)) {
        rejected.push({ message, error: `unexpected event type ${result.event.type} on this topic` });
        continue;
      }
      parsed.push({ message, event: result.event });
    }
    if (rejected.length > 0) this.observer.event('invalid', 'invalid', rejected.length);
    return { parsed, rejected };
  }

  /** Forget everything cached (tests; also used when the consumer restarts). */
  reset(): void {
    this.states.clear();
  }

  /**
   * Forgets, in every cached partition, the parked feedback received before `cutoff` (ISO time);
   * returns how many it forgot and how many the cached partitions still hold.
   */
  forgetParkedBefore(cutoff: string): { forgotten: number; held: number } {
    let forgotten = 0;
    let held = 0;
    for (const state of this.states.values()) {
      forgotten += state.forgetParkedBefore(cutoff);
      held += state.pendingIds.size;
    }
    return { forgotten, held };
  }

  /**
   * The experiments' current phase starts, read again when older than PHASE_STARTS_TTL_MS or after
   * this replica applied an experiment event. A failed read keeps the starts read before (a stale
   * start is safe: roll-ups are only established forward) and is tried again by the next batch.
   */
  private async phases(): Promise<PhaseStarts> {
    if (Date.now() - this.phasesReadAt >= PHASE_STARTS_TTL_MS) {
      const epoch = this.phasesEpoch;
      this.phasesReading ??= this.experiments
        .phaseStarts('background')
        .then(
          (docs) => {
            this.phaseStarts = new Map(docs.map((d) => [d._id, phaseStartMinute(d.phaseStartedAt)]));
            // An experiment event applied while reading: the next batch reads again.
            if (this.phasesEpoch === epoch) this.phasesReadAt = Date.now();
          },
          (err: unknown) =>
            this.logger.warn(
              { err: err instanceof Error ? err.message : String(err) },
              'reading the phase starts failed; the starts read before are used',
            ),
        )
        .finally(() => {
          this.phasesReading = null;
        });
      await this.phasesReading;
    }
    const starts = this.phaseStarts;
    return (project, exp) => starts.get(experimentScope(project, exp));
  }

  private async stateFor(
    part: number,
    role: SourceKind,
    firstOffset: number,
    groupJoins: number | undefined,
    now: number,
  ): Promise<PartitionState> {
    const cached = this.states.get(part);
    const expected = cached?.expected.get(role);
    // A gap means another instance processed this partition meanwhile, and so may a rebalance
    // since the load: either way our cache is stale.
    if (
      cached &&
      this.loadedIn.get(part) === groupJoins &&
      (expected === undefined || expected === firstOffset)
    )
      return cached;
    let pending = this.loading.get(part);
    if (!pending) {
      const requestsSince = this.requestRetentionMs > 0 ? now - this.requestRetentionMs : undefined;
      pending = this.aggregation.loadPartition(part, requestsSince).finally(() => this.loading.delete(part));
      this.loading.set(part, pending);
    }
    const state = await pending;
    // Partitions cached in an earlier join of the group are loaded again if this instance still
    // owns them: forget them now, so that those it no longer owns do not stay in memory.
    for (const [other, joins] of this.loadedIn)
      if (joins !== groupJoins) {
        this.states.delete(other);
        this.loadedIn.delete(other);
      }
    this.states.set(part, state);
    this.loadedIn.set(part, groupJoins);
    this.logger.info(
      { partition: part, buckets: state.buckets.size, users: state.seenCount, requests: state.requests.size },
      'partition state loaded',
    );
    return state;
  }

  private async applyExperiments(events: AnyCloudEvent[]): Promise<void> {
    const snapshots: ExperimentSnapshotInput[] = [];
    for (const e of events) {
      if (
        e.type === EVENT_TYPES.experimentCreated ||
        e.type === EVENT_TYPES.experimentUpdated ||
        e.type === EVENT_TYPES.experimentStatusChanged
      ) {
        const x = e.data.experiment;
        snapshots.push({
          project: projectOf(e),
          key: x.key,
          revision: x.revision,
          status: x.status,
          control: x.control,
          arms: x.arms.map((a) => ({
            name: a.name,
            weight: a.weight,
            prompt: { name: a.prompt.name, hash: a.prompt.hash },
          })),
          decision: x.decision ?? null,
          phase: x.phase,
          changedAt: e.data.changedAt,
        });
      }
    }
    await this.experiments.applySnapshots(snapshots);
    if (snapshots.length > 0) {
      // A phase may have started: the next batch reads the starts again.
      this.phasesEpoch++;
      this.phasesReadAt = -Infinity;
      this.observer.event('experiment', 'applied', snapshots.length);
      this.observer.changed();
    }
  }
}

function isExpected(role: TopicRole, event: AnyCloudEvent): boolean {
  if (role === 'experiments') {
    return (
      event.type === EVENT_TYPES.experimentCreated ||
      event.type === EVENT_TYPES.experimentUpdated ||
      event.type === EVENT_TYPES.experimentStatusChanged
    );
  }
  return event.type === TYPE_OF_ROLE[role];
}

function toPlanned(event: AnyCloudEvent, offset: number): PlannedEvent {
  const project = projectOf(event);
  switch (event.type) {
    case EVENT_TYPES.exposure:
      return { kind: 'x', offset, project, data: event.data };
    case EVENT_TYPES.generationLogged:
      return { kind: 'g', offset, project, data: event.data };
    case EVENT_TYPES.feedbackSubmitted:
      return { kind: 'f', offset, project, data: event.data };
    default:
      throw new Error(`unexpected event type ${event.type}`);
  }
}
