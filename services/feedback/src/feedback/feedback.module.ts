import { LOGGER, SERVICE_CONFIG } from '@llmops/platform';
import { Module } from '@nestjs/common';
import type { Logger } from 'pino';
import type { FeedbackConfig } from '../config/feedback.config';
import { IngestionMetrics } from '../ingestion/ingestion.metrics';
import { IngestionModule } from '../ingestion/ingestion.module';
import { FeedbackRoutes } from './feedback.routes';
import { FeedbackRevisionRepository } from './persistence/feedback-revision.repository';
import { FirstRevisionWriter } from './persistence/first-revision-writer';
import { ServerFeedbackIds } from './server-feedback-ids';
import { SubmitFeedbackUseCase } from './submit-feedback.usecase';

@Module({
  imports: [IngestionModule],
  providers: [
    FeedbackRevisionRepository,
    {
      provide: ServerFeedbackIds,
      inject: [SERVICE_CONFIG],
      useFactory: (config: FeedbackConfig) => new ServerFeedbackIds(config.FEEDBACK_ID_KEYS),
    },
    {
      provide: FirstRevisionWriter,
      inject: [FeedbackRevisionRepository, SERVICE_CONFIG, IngestionMetrics, LOGGER],
      useFactory: (
        store: FeedbackRevisionRepository,
        config: FeedbackConfig,
        metrics: IngestionMetrics,
        logger: Logger,
      ) =>
        new FirstRevisionWriter(
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
        ),
    },
    SubmitFeedbackUseCase,
    FeedbackRoutes,
  ],
})
export class FeedbackModule {}
