import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { AliasMoveRepository } from './alias-move.repository';
import { AliasMoveDocument, AliasMoveSchema } from './alias-move.schema';
import { PromptSummaryRepository } from './prompt-summary.repository';
import {
  PromptAliasDocument,
  PromptAliasSchema,
  PromptDocument,
  PromptSchema,
} from './prompt-summary.schema';
import { PromptVersionRepository } from './prompt-version.repository';
import { PromptVersionDocument, PromptVersionSchema } from './prompt-version.schema';

/** The registry's documents and the repositories that own every query on them. */
@Module({
  imports: [
    MongooseModule.forFeature([
      { name: PromptVersionDocument.name, schema: PromptVersionSchema },
      { name: AliasMoveDocument.name, schema: AliasMoveSchema },
      { name: PromptDocument.name, schema: PromptSchema },
      { name: PromptAliasDocument.name, schema: PromptAliasSchema },
    ]),
  ],
  providers: [PromptVersionRepository, AliasMoveRepository, PromptSummaryRepository],
  exports: [PromptVersionRepository, AliasMoveRepository, PromptSummaryRepository],
})
export class PersistenceModule {}
