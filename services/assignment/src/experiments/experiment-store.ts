/**
 * The in-memory experiment state of this replica, the only thing the assignment path reads.
 * Fed by MongoDB at boot, by this replica's own writes, and by the experiments topic; for each
 * (project, key) the snapshot with the highest `revision` wins, whatever the order of arrival.
 * Experiments are held per project, so a lookup never sees another project's experiment.
 */
import type { ExperimentSnapshot } from '@llmops/contracts';
import { type AssignmentCounter, CompiledExperiment } from '@llmops/experiments';
import { LOGGER, METRICS_REGISTRY } from '@llmops/platform';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';

class CountCell {
  n = 0;
  constructor(readonly labels: { project: string; experiment: string; arm: string; reason: string }) {}
  inc(): void {
    this.n++;
  }
}

export type SnapshotSource = 'mongo' | 'local' | 'topic';

/**
 * Most (project, experiment, arm, reason) series of `llmops_assignments_total`. Label sets first
 * bound past it are counted under `project="_other", experiment="_other", arm="_other"` (one series
 * per reason; no project, key or arm name starts with `_`), so every assignment is still counted
 * and /metrics stays bounded however many experiments there are.
 */
export const MAX_ASSIGNMENT_SERIES = 2_000;

export type ApplyResult = 'applied' | 'stale' | { invalid: string };

@Injectable()
export class ExperimentStore {
  /** project -> experiment key -> compiled experiment. */
  private readonly projects = new Map<string, Map<string, CompiledExperiment>>();
  private readonly counter: AssignmentCounter;
  private readonly applied: Counter<'source' | 'outcome'>;
  private readonly listeners = new Set<(project: string) => void>();

  constructor(
    @Inject(METRICS_REGISTRY) registry: Registry,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    // prom-client re-hashes and re-validates the labels on every inc(), even on a labels() child,
    // a large share of an assignment's cost. The hot path bumps a plain number in a cell bound at
    // compile time instead; scrapes copy the cells into the counter. Cells outlive recompiles, so
    // the totals stay monotonic across revisions.
    const cells = new Map<string, CountCell>();
    const overflow = new Map<string, CountCell>();
    this.counter = (project, experiment, arm, reason) => {
      const id = `${project}\u0000${experiment}\u0000${arm}\u0000${reason}`;
      let cell = cells.get(id);
      if (!cell && cells.size >= MAX_ASSIGNMENT_SERIES) {
        cell = overflow.get(reason);
        if (!cell) {
          cell = new CountCell({ project: '_other', experiment: '_other', arm: '_other', reason });
          overflow.set(reason, cell);
        }
      } else if (!cell) {
        cell = new CountCell({ project, experiment, arm, reason });
        cells.set(id, cell);
      }
      return cell;
    };
    new Counter({
      name: 'llmops_assignments_total',
      help: 'Assignments served, by project, experiment, arm and reason',
      labelNames: ['project', 'experiment', 'arm', 'reason'],
      registers: [registry],
      collect() {
        this.reset();
        for (const cell of cells.values()) this.inc(cell.labels, cell.n);
        for (const cell of overflow.values()) this.inc(cell.labels, cell.n);
      },
    });
    this.applied = new Counter({
      name: 'llmops_experiment_snapshots_total',
      help: 'Experiment snapshots received, by source and outcome (applied, stale, invalid)',
      labelNames: ['source', 'outcome'],
      registers: [registry],
    });
    const projects = this.projects;
    new Gauge({
      name: 'llmops_experiments_in_memory',
      help: 'Experiments held in memory by this replica, by status',
      labelNames: ['status'],
      registers: [registry],
      collect() {
        this.reset();
        for (const experiments of projects.values())
          for (const e of experiments.values()) this.inc({ status: e.snapshot.status });
      },
    });
  }

  /** The project's experiment `key`; undefined for a key only another project has. */
  get(project: string, key: string): CompiledExperiment | undefined {
    return this.projects.get(project)?.get(key);
  }

  /** Every experiment of the project (any status), in no particular order. */
  list(project: string): CompiledExperiment[] {
    return [...(this.projects.get(project)?.values() ?? [])];
  }

  /** Calls `listener(project)` after every snapshot applied to that project; returns the unsubscribe. */
  onApplied(listener: (project: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  apply(project: string, snapshot: ExperimentSnapshot, source: SnapshotSource): ApplyResult {
    let experiments = this.projects.get(project);
    const current = experiments?.get(snapshot.key);
    if (current && current.revision >= snapshot.revision) {
      this.applied.inc({ source, outcome: 'stale' });
      return 'stale';
    }
    let compiled: CompiledExperiment;
    try {
      compiled = new CompiledExperiment(project, Object.freeze(snapshot), this.counter);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.applied.inc({ source, outcome: 'invalid' });
      this.logger.error(
        { project, key: snapshot.key, revision: snapshot.revision, source, err: message },
        'experiment snapshot cannot be compiled; keeping the previous state',
      );
      return { invalid: message };
    }
    if (!experiments) {
      experiments = new Map();
      this.projects.set(project, experiments);
    }
    experiments.set(snapshot.key, compiled);
    this.applied.inc({ source, outcome: 'applied' });
    for (const listener of this.listeners) listener(project);
    return 'applied';
  }
}
