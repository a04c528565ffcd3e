/**
 * The experiment snapshots of a project, for SDKs that assign locally. Served from memory (the
 * store the assignment path reads), so what a client receives is exactly what this replica assigns
 * with. The version is a digest of the project's (key, revision) pairs: every replica that holds the
 * same experiments answers the same version, whichever replica a client reaches.
 * Long polls wait for the store to apply a change to the project, for their deadline, or for
 * the application to shut down (then they answer at once, so closing never waits for them).
 */
import { sha256Hex } from '@llmops/hashing';
import { METRICS_REGISTRY, SERVICE_CONFIG } from '@llmops/platform';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Gauge, type Registry } from 'prom-client';
import type { AssignmentConfig } from '../config/assignment.config';
import { ExperimentStore } from '../experiments/experiment-store';
import { TooManyWaitersError } from './snapshots.errors';

/** One version of a project's snapshots, serialized once for every client that reads it. */
export interface SnapshotsView {
  version: string;
  /** `"<version>"`, the ETag. */
  etag: string;
  /** The JSON response body. */
  body: string;
}

export type SnapshotsResult =
  { changed: true; view: SnapshotsView } | { changed: false; view: SnapshotsView };

/** Whether an If-None-Match header value names `etag` (weak comparison, lists and `*` included). */
export function matchesEtag(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  return ifNoneMatch.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag.replace(/^W\//, '') === etag;
  });
}

@Injectable()
export class ReadSnapshotsUseCase implements OnModuleDestroy {
  private readonly views = new Map<string, SnapshotsView>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private waiting = 0;
  private closing = false;
  private readonly maxWaiters: number;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly store: ExperimentStore,
    @Inject(SERVICE_CONFIG) config: AssignmentConfig,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    this.maxWaiters = config.SNAPSHOTS_MAX_WAITERS;
    this.unsubscribe = store.onApplied((project) => {
      this.views.delete(project);
      this.wake(project);
    });
    const waiting = (): number => this.waiting;
    new Gauge({
      name: 'llmops_snapshot_long_polls',
      help: 'GET /v1/experiments/snapshots long polls this replica holds',
      registers: [registry],
      collect() {
        this.set(waiting());
      },
    });
  }

  /**
   * 200 (`changed`) unless `ifNoneMatch` names the current version; then, with `waitMs`, holds the
   * request until the version changes, `waitMs` passes, `signal` aborts (the client left) or the
   * application shuts down. Throws TooManyWaitersError past SNAPSHOTS_MAX_WAITERS long polls.
   */
  async read(
    project: string,
    ifNoneMatch: string | undefined,
    waitMs = 0,
    signal?: AbortSignal,
  ): Promise<SnapshotsResult> {
    const view = this.view(project);
    if (!matchesEtag(ifNoneMatch, view.etag)) return { changed: true, view };
    if (waitMs <= 0 || this.closing) return { changed: false, view };
    if (this.waiting >= this.maxWaiters) throw new TooManyWaitersError(this.maxWaiters);
    await this.changeOf(project, waitMs, signal);
    const next = this.view(project);
    return next.version === view.version ? { changed: false, view: next } : { changed: true, view: next };
  }

  onModuleDestroy(): void {
    this.closing = true;
    this.unsubscribe();
    for (const project of [...this.waiters.keys()]) this.wake(project);
  }

  private view(project: string): SnapshotsView {
    let view = this.views.get(project);
    if (!view) {
      const experiments = this.store
        .list(project)
        .map((e) => e.snapshot)
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      const version = sha256Hex(experiments.map((s) => `${s.key}\n${s.revision}\n`).join('')).slice(0, 20);
      view = { version, etag: `"${version}"`, body: JSON.stringify({ project, version, experiments }) };
      this.views.set(project, view);
    }
    return view;
  }

  private changeOf(project: string, waitMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      let set = this.waiters.get(project);
      if (!set) {
        set = new Set();
        this.waiters.set(project, set);
      }
      const waiters = set;
      const done = (): void => {
        if (!waiters.delete(done)) return;
        this.waiting--;
        if (waiters.size === 0 && this.waiters.get(project) === waiters) this.waiters.delete(project);
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      signal?.addEventListener('abort', done, { once: true });
      waiters.add(done);
      this.waiting++;
      if (signal?.aborted) done();
    });
  }

  private wake(project: string): void {
    const waiters = this.waiters.get(project);
    if (waiters) for (const done of [...waiters]) done();
  }
}
