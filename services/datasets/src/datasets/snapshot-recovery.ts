import { LOGGER } from '@llmops/platform';
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { SnapshotRepository } from '../persistence/snapshot.repository';
import { SnapshotPublisher } from './snapshot-publisher';

/** Builds older than this without a snapshot were abandoned (their process died mid-build). */
const ABANDONED_AFTER_MS = 24 * 3_600_000;

/**
 * At boot, in the background (boot does not wait): announces the snapshots whose announcement did
 * not go out, and deletes the records of builds a crash abandoned before they became a snapshot.
 */
@Injectable()
export class SnapshotRecovery implements OnApplicationBootstrap {
  constructor(
    private readonly publisher: SnapshotPublisher,
    private readonly snapshots: SnapshotRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    void this.recover().catch((err: unknown) =>
      this.logger.warn(
        { err: err instanceof Error ? err.message : String(err) },
        'snapshot recovery failed; the next boot retries',
      ),
    );
  }

  async recover(): Promise<void> {
    const republished = await this.publisher.republish();
    const abandoned = await this.snapshots.orphanBuilds(new Date(Date.now() - ABANDONED_AFTER_MS));
    for (const build of abandoned) await this.snapshots.deleteRecords(build);
    if (republished > 0 || abandoned.length > 0) {
      this.logger.info({ republished, abandonedBuilds: abandoned.length }, 'snapshot recovery done');
    }
  }
}
