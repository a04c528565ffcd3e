import { LOGGER, mongoServerKind, SERVICE_CONFIG } from '@llmops/platform';
import { Module } from '@nestjs/common';
import { getConnectionToken, MongooseModule } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import type { Logger } from 'pino';
import type { FeedbackConfig } from '../config/feedback.config';
import { IngestionMetrics } from '../ingestion/ingestion.metrics';
import { IngestionModule } from '../ingestion/ingestion.module';
import { FeedbackRoutes } from './feedback.routes';
import { FeedbackRevisions, revisionStoreDesign } from './feedback-revisions';
import { PagedFeedbackRevisions } from './paged-feedback-revisions';
import { FeedbackRevisionRepository } from './persistence/feedback-revision.repository';
import { FEEDBACK_REVISION_MODEL, FeedbackRevisionSchema } from './persistence/feedback-revision.schema';
import { FIRST_REVISION_PAGE_MODEL, FirstRevisionPageSchema } from './persistence/first-revision-pages';
import { FirstRevisionWriter } from './persistence/first-revision-writer';
import { migrateRevisionsToProjects } from './persistence/project.migration';
import { PlainFeedbackRevisions } from './plain-feedback-revisions';
import { ServerFeedbackIds } from './server-feedback-ids';
import { SubmitFeedbackUseCase } from './submit-feedback.usecase';

/**
 * The revisions design the server supports, chosen once at boot (see FeedbackRevisions), after the
 * claims written before projects were moved to `default` (project.migration.ts).
 */
async function feedbackRevisions(
  connection: Connection,
  store: FeedbackRevisionRepository,
  config: FeedbackConfig,
  metrics: IngestionMetrics,
  logger: Logger,
): Promise<FeedbackRevisions> {
  const migrated = await migrateRevisionsToProjects(connection);
  if (migrated > 0) logger.info({ claims: migrated }, 'feedback revision claims moved to project default');
  const auto = config.FEEDBACK_REVISION_STORE === 'auto';
  const server = auto ? await mongoServerKind(connection) : 'mongodb';
  const holdsPages = auto && server === 'mongodb' && (await store.holdsPages());
  if (revisionStoreDesign(config.FEEDBACK_REVISION_STORE, server, holdsPages) === 'plain') {
    return new PlainFeedbackRevisions(store, config.FEEDBACK_REVISION_MAX_ATTEMPTS);
  }
  const writer = new FirstRevisionWriter(
    store,
    {
      lingerMs: config.FEEDBACK_FIRST_CLAIM_LINGER_MS,
      maxGroup: config.FEEDBACK_FIRST_CLAIM_MAX_GROUP,
      maxPending: config.FEEDBACK_FIRST_CLAIM_MAX_PENDING,
      // Leave the rest of the shutdown budget to the producer and the connections.
      flushTimeoutMs: Math.max(1_000, Math.floor(config.SHUTDOWN_TIMEOUT_MS / 3)),
    },
    metrics,
    logger,
  );
  return new PagedFeedbackRevisions(store, new ServerFeedbackIds(config.FEEDBACK_ID_KEYS), writer, {
    firstClaimAfterAck: config.FEEDBACK_FIRST_CLAIM_AFTER_ACK,
    maxClockSkewMs: config.FEEDBACK_ID_MAX_CLOCK_SKEW_MS,
    maxAttempts: config.FEEDBACK_REVISION_MAX_ATTEMPTS,
  });
}

@Module({
  imports: [
    IngestionModule,
    MongooseModule.forFeature([
      { name: FEEDBACK_REVISION_MODEL, schema: FeedbackRevisionSchema },
      { name: FIRST_REVISION_PAGE_MODEL, schema: FirstRevisionPageSchema },
    ]),
  ],
  providers: [
    FeedbackRevisionRepository,
    {
      provide: FeedbackRevisions,
      inject: [getConnectionToken(), FeedbackRevisionRepository, SERVICE_CONFIG, IngestionMetrics, LOGGER],
      useFactory: feedbackRevisions,
    },
    SubmitFeedbackUseCase,
    FeedbackRoutes,
  ],
})
export class FeedbackModule {}
