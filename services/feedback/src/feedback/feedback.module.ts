import { Module } from '@nestjs/common';
import { IngestionModule } from '../ingestion/ingestion.module';
import { FeedbackRoutes } from './feedback.routes';
import { FeedbackRevisionRepository } from './persistence/feedback-revision.repository';
import { SubmitFeedbackUseCase } from './submit-feedback.usecase';

@Module({
  imports: [IngestionModule],
  providers: [FeedbackRevisionRepository, SubmitFeedbackUseCase, FeedbackRoutes],
})
export class FeedbackModule {}
