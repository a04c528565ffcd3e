/** The datasets service's own series (consumer lag comes from the platform consumer). */
import { Inject, Injectable } from '@nestjs/common';
import { METRICS_REGISTRY } from '@llmops/platform';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

@Injectable()
export class DatasetsMetrics {
  /** Consumed events by type (generation, feedback, alias, invalid) and outcome (applied, expired, invalid). */
  readonly events: Counter<'type' | 'outcome'>;
  /** Stored examples by state: `materialized` (has its generation) or `parked` (feedback only). */
  readonly examples: Gauge<'state'>;
  /** Examples deleted by the retention sweep. */
  readonly purged: Counter<string>;
  /** Snapshots created (a snapshot request that matched an existing one is not counted). */
  readonly snapshots: Counter<'format'>;
  /** Records per created snapshot. */
  readonly snapshotRecords: Histogram<'format'>;
  /** Bytes of JSONL sent by downloads. */
  readonly exportBytes: Counter<'format'>;
  /** Downloads now streaming. */
  readonly exportsInProgress: Gauge<string>;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    const registers = [registry];
    this.events = new Counter({
      name: 'llmops_datasets_events_total',
      help: 'Consumed events by type and outcome',
      labelNames: ['type', 'outcome'],
      registers,
    });
    this.examples = new Gauge({
      name: 'llmops_datasets_examples',
      help: 'Stored examples: materialized (generation present) or parked (feedback waiting for its generation)',
      labelNames: ['state'],
      registers,
    });
    this.purged = new Counter({
      name: 'llmops_datasets_examples_purged_total',
      help: 'Examples deleted by the retention sweep',
      registers,
    });
    this.snapshots = new Counter({
      name: 'llmops_datasets_snapshots_created_total',
      help: 'Snapshots created, by dataset format',
      labelNames: ['format'],
      registers,
    });
    this.snapshotRecords = new Histogram({
      name: 'llmops_datasets_snapshot_records',
      help: 'Records per created snapshot',
      labelNames: ['format'],
      buckets: [0, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000],
      registers,
    });
    this.exportBytes = new Counter({
      name: 'llmops_datasets_export_bytes_total',
      help: 'Bytes of JSONL streamed by downloads, by export format',
      labelNames: ['format'],
      registers,
    });
    this.exportsInProgress = new Gauge({
      name: 'llmops_datasets_exports_in_progress',
      help: 'Downloads now streaming',
      registers,
    });
  }
}
