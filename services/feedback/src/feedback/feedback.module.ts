import { Module } from '@nestjs/common';
import { IngestionModule } from '../ingestion/ingestion.module';
import { FeedbackController } from './feedback.controller';
import { FeedbackRevisionRepository } from './persistence/feedback-revision.repository';
import { SubmitFeedbackUseCase } from './submit-feedback.usecase';

@Module({
  imports: [IngestionModule],
  controllers: [FeedbackController],
  providers: [FeedbackRevisionRepository, SubmitFeedbackUseCase],
})
export class FeedbackModule {}
