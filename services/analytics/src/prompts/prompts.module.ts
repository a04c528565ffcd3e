import { Module } from '@nestjs/common';
import { PersistenceModule } from '../persistence/persistence.module';
import { PromptVersionsConsumer } from './prompt-versions.consumer';
import { RecordPromptSettingsUseCase } from './record-prompt-settings.usecase';

/** The registry's prompt versions, kept for the MLflow export (model and sampling params per hash). */
@Module({
  imports: [PersistenceModule],
  controllers: [PromptVersionsConsumer],
  providers: [RecordPromptSettingsUseCase],
})
export class PromptsModule {}
